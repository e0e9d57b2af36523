/**
 * Which resolved addresses the egress proxy refuses to connect to: an allowed name whose DNS
 * answer is loopback, private, link-local (cloud metadata at 169.254.169.254 included),
 * unspecified, multicast or otherwise special would turn the proxy into a door into the daemon's
 * own host and network (DNS rebinding). Pure.
 *
 * @module
 */

/** The kind of a special address, or null for an ordinary public one. */
export type AddressClass =
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "multicast"
  | "reserved"
  | null;

/** Classifies an IPv4 or IPv6 address (as `Deno.resolveDns` or a resolver returns it). */
export function classifyAddress(address: string): AddressClass {
  const v4 = parseIpv4(address);
  if (v4) return classifyIpv4(v4);
  const v6 = parseIpv6(address);
  if (!v6) return "reserved";
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms take the IPv4 rules.
  if (v6.slice(0, 5).every((x) => x === 0) && v6[5] === 0xffff) {
    return classifyIpv4([v6[6]! >> 8, v6[6]! & 255, v6[7]! >> 8, v6[7]! & 255]);
  }
  if (v6.every((x) => x === 0)) return "unspecified";
  if (v6.slice(0, 7).every((x) => x === 0) && v6[7] === 1) return "loopback";
  const first = v6[0]!;
  if ((first & 0xfe00) === 0xfc00) return "private"; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return "link-local";
  if ((first & 0xff00) === 0xff00) return "multicast";
  if (first === 0x64 && v6[1] === 0xff9b) return "reserved"; // NAT64: reaches IPv4 behind it
  if (first === 0x2002 || (first === 0x2001 && v6[1] === 0)) return "reserved"; // 6to4, Teredo
  if (first === 0x2001 && v6[1] === 0xdb8) return "reserved";
  return null;
}

function classifyIpv4([a, b]: number[]): AddressClass {
  if (a === 0) return "unspecified";
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) {
    return "private";
  }
  if (a === 169 && b === 254) return "link-local";
  if (a === 100 && b! >= 64 && b! <= 127) return "private"; // carrier-grade NAT
  if (a! >= 224 && a! <= 239) return "multicast";
  if (a! >= 240) return "reserved";
  if (a === 192 && b === 0) return "reserved"; // 192.0.0.0/24, 192.0.2.0/24
  if (a === 198 && (b === 18 || b === 19 || b === 51)) return "reserved";
  if (a === 203 && b === 0) return "reserved";
  return null;
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    return null;
  }
  return parts.map(Number);
}

function parseIpv6(text: string): number[] | null {
  let t = text.toLowerCase();
  const zone = t.indexOf("%");
  if (zone >= 0) t = t.slice(0, zone);
  // A trailing dotted IPv4 part becomes two groups.
  const dotted = t.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = parseIpv4(dotted[2]!);
    if (!v4) return null;
    t = `${dotted[1]}${((v4[0]! << 8) | v4[1]!).toString(16)}:${
      ((v4[2]! << 8) | v4[3]!).toString(16)
    }`;
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}
