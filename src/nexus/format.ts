/**
 * Small pure formatters of the dashboard: times, durations, countdowns, dollars, one-line text.
 *
 * @module
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The parts of `d` as a clock in `zone` shows them. */
function partsIn(d: Date, zone: string | undefined) {
  try {
    const f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
      hourCycle: "h23",
    });
    const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
    return {
      month: Number(p.month) - 1,
      day: Number(p.day),
      hour: Number(p.hour) % 24,
      minute: Number(p.minute),
      weekday: String(p.weekday),
    };
  } catch {
    return {
      month: d.getUTCMonth(),
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      weekday: DAYS[d.getUTCDay()]!,
    };
  }
}

/** `Apr 12 14:30` in `zone`. */
export function shortTime(d: Date, zone?: string): string {
  const p = partsIn(d, zone);
  return `${MONTHS[p.month]} ${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
}

/** `Mon Apr 13 09:00` in `zone`. */
export function dayTime(d: Date, zone?: string): string {
  const p = partsIn(d, zone);
  return `${p.weekday} ${MONTHS[p.month]} ${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
}

/** `2h 30m`, `45s`, `3d 4h`: the two largest units of a span. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A job's wall-clock duration, running jobs up to `now`; `-` before it starts. */
export function jobDuration(
  job: { startedAt: Date | null; finishedAt: Date | null },
  now: Date,
): string {
  if (!job.startedAt) return "-";
  return span((job.finishedAt ?? now).getTime() - job.startedAt.getTime());
}

/** `$0.42`, `$12.30`, `$0.0031`; `-` when unknown. */
export function usd(v: number | null): string {
  if (v === null) return "-";
  if (v !== 0 && Math.abs(v) < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toFixed(2)}`;
}

/** First line of `text`, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, Math.max(0, max - 1)) + "…" : flat;
}

/** Pads or cuts `text` to exactly `width` characters. */
export function fit(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + "…" : text.padEnd(width);
}
