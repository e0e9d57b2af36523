import assert from "node:assert/strict";
import {
  classifyAddress,
  egressAllows,
  egressEntryProblem,
  egressPolicyFor,
  expandEgressDefaults,
  parseEgressList,
} from "../../src/egress/mod.ts";

Deno.test("egressEntryProblem() accepts hostnames, *. wildcards and host:port", () => {
  for (const ok of ["api.github.com", "*.npmjs.org", "git.example.com:8443", "Example.COM."]) {
    assert.equal(egressEntryProblem(ok), null, ok);
  }
});

Deno.test("egressEntryProblem() names what is wrong with a bad entry", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["10.0.0.1", /IP address/],
    ["[::1]", /IPv6/],
    ["fe80::1", /IPv6/],
    ["https://api.github.com/x", /URL; write only its host, like api\.github\.com/],
    ["api.github.com/x", /path/],
    ["a.*.com", /leading `\*\.`/],
    ["*.com", /top-level/],
    ["host:99999", /port/],
    ["host:", /port/],
    ["bad_host.com", /not a hostname/],
    ["any", /egress: any/],
  ];
  for (const [entry, re] of cases) assert.match(egressEntryProblem(entry) ?? "", re, entry);
});

Deno.test("egressAllows() matches exact hosts, wildcards below the domain, and ports", () => {
  const policy = {
    any: false as const,
    rules: parseEgressList(["api.github.com", "*.npmjs.org", "x.dev:8443"]),
  };
  assert.ok(egressAllows(policy, "api.github.com", 443, "connect"));
  assert.ok(egressAllows(policy, "API.GitHub.com.", 443, "connect"));
  assert.ok(egressAllows(policy, "api.github.com", 80, "http"));
  assert.ok(!egressAllows(policy, "api.github.com", 22, "connect"));
  assert.ok(!egressAllows(policy, "api.github.com", 80, "connect"));
  assert.ok(egressAllows(policy, "registry.npmjs.org", 443, "connect"));
  assert.ok(egressAllows(policy, "a.b.npmjs.org", 443, "connect"));
  assert.ok(!egressAllows(policy, "npmjs.org", 443, "connect"));
  assert.ok(!egressAllows(policy, "evilnpmjs.org", 443, "connect"));
  assert.ok(!egressAllows(policy, "api.github.com.evil.example", 443, "connect"));
  assert.ok(egressAllows(policy, "x.dev", 8443, "connect"));
  assert.ok(!egressAllows(policy, "x.dev", 443, "connect"));
});

Deno.test("egressAllows() refuses raw IPs in every spelling unless egress is any", () => {
  const policy = { any: false as const, rules: parseEgressList(["*.example.com"]) };
  for (const ip of ["93.184.216.34", "[2606:2800::1]", "::1", "2130706433", "0x7f000001"]) {
    assert.ok(!egressAllows(policy, ip, 443, "connect"), ip);
  }
  assert.ok(egressAllows({ any: true }, "93.184.216.34", 443, "connect"));
});

Deno.test("egressPolicyFor() expands default to the agent type's list", () => {
  const { policy } = egressPolicyFor("claude", ["default", "pypi.org"]);
  assert.ok(!policy.any);
  assert.ok(egressAllows(policy, "api.anthropic.com", 443, "connect"));
  assert.ok(egressAllows(policy, "pypi.org", 443, "connect"));
  assert.ok(egressAllows(policy, "objects.githubusercontent.com", 443, "connect"));
  assert.deepEqual(egressPolicyFor("claude", undefined).policy, { any: true });
  assert.ok(!expandEgressDefaults("opencode", ["default"]).includes("api.anthropic.com"));
  assert.ok(expandEgressDefaults("opencode", ["default"]).includes("opencode.ai"));
});

Deno.test("classifyAddress() finds loopback, private, link-local and mapped addresses", () => {
  const cases: [string, string | null][] = [
    ["127.0.0.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.32.0.1", null],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "private"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["8.8.8.8", null],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fd00::1", "private"],
    ["fe80::1%eth0", "link-local"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["64:ff9b::a9fe:a9fe", "reserved"],
    ["2606:4700::1111", null],
    ["not-an-ip", "reserved"],
  ];
  for (const [ip, cls] of cases) assert.equal(classifyAddress(ip), cls, ip);
});
