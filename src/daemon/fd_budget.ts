/**
 * How many connections the daemon may hold open without running out of file descriptors for
 * what must not fail: SQLite (three per pylon), job logs, Docker streams, chat connections.
 * Sized from the process's soft `NOFILE` limit (Deno raises it to the hard limit at start, so
 * it is 1024 only where the hard limit is, e.g. after `ulimit -n 1024`; the unit pylon installs
 * sets `LimitNOFILE`), minus what is open at start, minus a reserve.
 *
 * @module
 */

/** Connections allowed when nothing says otherwise: plenty for webhooks, bounded in memory. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/** Fewest connections granted even when the limit is tight (the daemon then also warns). */
const MIN_CONNECTIONS = 16;

/** What {@linkcode connectionBudget} decides. */
export interface ConnectionBudget {
  max: number;
  /** The soft limit it was sized from, when known. */
  softLimit: number | undefined;
  /** Set when the limit leaves too little room for the daemon's own files. */
  tight: boolean;
}

/**
 * Connections left once `open` descriptors (already in use) and `reserve` (for what the
 * daemon opens later) are set aside from the soft limit, capped at `ceiling`.
 */
export function connectionBudget(
  limit: { soft: number } | undefined,
  used: { open: number | undefined; reserve: number; ceiling?: number },
): ConnectionBudget {
  const ceiling = used.ceiling ?? DEFAULT_MAX_CONNECTIONS;
  if (!limit || !Number.isFinite(limit.soft)) {
    return { max: ceiling, softLimit: limit?.soft, tight: false };
  }
  // Unknown: about what an idle daemon with a few pylons holds.
  const room = limit.soft - (used.open ?? 32) - used.reserve;
  if (room < MIN_CONNECTIONS) return { max: MIN_CONNECTIONS, softLimit: limit.soft, tight: true };
  return { max: Math.min(room, ceiling), softLimit: limit.soft, tight: false };
}

/**
 * Reads this process's soft `NOFILE` limit and how many descriptors it has open (Linux; both
 * undefined elsewhere). Deno refuses `/proc/self` without `--allow-all`, so a shell reads them:
 * it inherits the limit (Deno raises its soft limit to the hard one at start) and may list its
 * parent's descriptors.
 */
export async function readDescriptorUse(): Promise<
  { limit: { soft: number } | undefined; open: number | undefined }
> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", 'ulimit -Sn; ls "/proc/$PPID/fd" | wc -l'],
      stdin: "null",
      stderr: "null",
    }).output();
    const [soft, open] = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
    const limit = soft === "unlimited" ? Infinity : /^\d+$/.test(soft ?? "") ? Number(soft) : NaN;
    const count = Number(open);
    return {
      limit: out.success && !Number.isNaN(limit) ? { soft: limit } : undefined,
      open: out.success && Number.isInteger(count) && count > 0 ? count : undefined,
    };
  } catch {
    return { limit: undefined, open: undefined };
  }
}
