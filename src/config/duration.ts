/**
 * Go-style durations (`10m`, `1h30m`, `1.5h`, `300ms`) and byte sizes (`1MiB`, `512k`, `2g`),
 * the two unit formats users write in config files.
 *
 * @module
 */

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_PART_REGEXP = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses a Go duration string into milliseconds; `null` when it is not one.
 * `0` alone is allowed (Go allows it too) and means zero.
 */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === "0") return 0;
  if (s === "") return null;
  let i = 0;
  let total = 0;
  while (i < s.length) {
    DURATION_PART_REGEXP.lastIndex = i;
    const m = DURATION_PART_REGEXP.exec(s);
    if (!m) return null;
    total += Number(m[1]) * (DURATION_UNITS[m[2]!] ?? NaN);
    i = DURATION_PART_REGEXP.lastIndex;
  }
  return Number.isFinite(total) ? total : null;
}

/** Formats milliseconds the way Go prints a rounded duration: `1m34s`, `2h0m0s`, `45s`, `0s`. */
export function formatDuration(ms: number): string {
  let secs = Math.round(ms / 1000);
  if (secs <= 0) return "0s";
  const h = Math.floor(secs / 3600);
  secs -= h * 3600;
  const m = Math.floor(secs / 60);
  secs -= m * 60;
  if (h > 0) return `${h}h${m}m${secs}s`;
  if (m > 0) return `${m}m${secs}s`;
  return `${secs}s`;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};
const SIZE_REGEXP = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Parses a byte size (`1048576`, `1MiB`, `512k`, `2g`, `10MB`) into bytes; `null` if invalid. */
export function parseByteSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : null;
  const m = SIZE_REGEXP.exec(value.trim());
  if (!m) return null;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return null;
  return Math.round(Number(m[1]) * unit);
}
