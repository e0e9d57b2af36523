/**
 * IANA time zone names: validation and the zone the host runs in.
 *
 * @module
 */

/** IANA-style names (`Europe/Berlin`, `UTC`, `Etc/GMT+5`); rejects bare offsets such as `+05:00`. */
const TIMEZONE_REGEXP = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const ZONEINFO_MARKER = "zoneinfo/";

/** Returns the zone's canonical spelling (`america/new_york` → `America/New_York`), or `undefined` if unknown. */
export function normalizeTimezone(zone: string): string | undefined {
  if (!TIMEZONE_REGEXP.test(zone)) return undefined;
  try {
    return new Temporal.ZonedDateTime(0n, zone).timeZoneId;
  } catch {
    return undefined;
  }
}

/** Whether `zone` is an IANA time zone name this runtime knows. */
export function isValidTimezone(zone: string): boolean {
  return normalizeTimezone(zone) !== undefined;
}

/** Options of {@linkcode systemTimezone}. */
export interface SystemTimezoneOptions {
  /**
   * Reads a symlink's target; injected so tests need no real `/etc/localtime`. Synchronous
   * because callers resolve the zone while building plain config values.
   *
   * @default {Deno.readLinkSync}
   */
  readLink?: (path: string) => string;
}

/**
 * The host's zone: `TZ` from `env` if it names a known zone, else the target of the
 * `/etc/localtime` symlink, else `UTC`.
 */
export function systemTimezone(
  env: Record<string, string | undefined>,
  options: SystemTimezoneOptions = {},
): string {
  const { readLink = Deno.readLinkSync } = options;
  const fromEnv = zoneOfTz(env.TZ ?? "");
  if (fromEnv !== undefined) return fromEnv;
  try {
    const fromLink = zoneOfPath(readLink("/etc/localtime"));
    if (fromLink !== undefined) return fromLink;
  } catch {
    // No symlink, or no permission to read it: fall back like cron does.
  }
  return "UTC";
}

/** Reads a `TZ` value: `Europe/Berlin`, `:Europe/Berlin` or a path into a zoneinfo folder. */
function zoneOfTz(tz: string): string | undefined {
  const value = tz.startsWith(":") ? tz.slice(1) : tz;
  if (value === "") return undefined;
  return value.includes(ZONEINFO_MARKER) ? zoneOfPath(value) : normalizeTimezone(value);
}

/** Reads a zone out of a path such as `/usr/share/zoneinfo/posix/Europe/Berlin`. */
function zoneOfPath(path: string): string | undefined {
  const at = path.lastIndexOf(ZONEINFO_MARKER);
  if (at === -1) return undefined;
  const name = path.slice(at + ZONEINFO_MARKER.length).replace(/^(?:posix|right)\//, "");
  return normalizeTimezone(name);
}
