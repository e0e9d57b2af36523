/**
 * Dashboard logins: one-time codes (minted for `pylon dashboard`, exchanged once for a session)
 * and the sessions themselves, kept in `$PYLON_HOME/dashboard_sessions.json` (0600) so a
 * daemon restart does not log everyone out.
 *
 * Design notes:
 * - Only SHA-256 hashes of codes and session ids are kept (memory and file): a copy of the file
 *   or a heap dump logs no one in. The secrets are 32 random bytes, so a plain hash suffices.
 * - Lookups go by hash in a Map: the time a lookup takes depends on the hash of what was
 *   presented, which tells an attacker nothing about any real id. The CSRF token is compared in
 *   constant time ({@linkcode constantTimeEqual}).
 * - The CSRF token is an HMAC of the session id, so it is bound to the session and needs no
 *   storage; a page gets it rendered in, a cross-site page cannot read it.
 * - Lifetimes: a code lives {@linkcode CODE_TTL_MS} (2 minutes); a session ends after
 *   {@linkcode SESSION_IDLE_MS} (12 h) without a request or {@linkcode SESSION_MAX_MS} (7 days)
 *   after login, whichever comes first. "Last seen" is written to the file at most every
 *   {@linkcode SEEN_WRITE_MS}, not on each request.
 *
 * @module
 */

import { dirname } from "node:path";

/** How long a one-time login code can be exchanged. */
export const CODE_TTL_MS = 2 * 60_000;
/** A session unused this long has expired. */
export const SESSION_IDLE_MS = 12 * 3_600_000;
/** A session this old has expired, used or not. */
export const SESSION_MAX_MS = 7 * 24 * 3_600_000;
/** "Last seen" moves in the file at most this often. */
const SEEN_WRITE_MS = 10 * 60_000;
/** The most sessions kept (the oldest are dropped beyond it). */
const MAX_SESSIONS = 200;
/** The most unexchanged codes kept (the oldest are dropped beyond it). */
const MAX_CODES = 50;

/** A session as kept (in memory and in the file). */
interface SessionRecord {
  hash: string;
  createdAt: number;
  seenAt: number;
}

/** The file's shape. */
interface SessionFile {
  version: 1;
  sessions: { hash: string; "created_at": number; "seen_at": number }[];
}

/** A valid session, as a request sees it. */
export interface Session {
  /** The CSRF token bound to it (what `x-csrf-token` and forms must carry). */
  csrf: string;
  /** Which session it is in the store (the SHA-256 of its id), for `valid` and `watch`. */
  key: string;
  /** When it ends if unused (ms since the epoch). */
  expiresAt: number;
}

/** Options of {@linkcode SessionStore}. */
export interface SessionStoreOptions {
  /** `$PYLON_HOME/dashboard_sessions.json`; absent: sessions live in memory only. */
  file?: string;
  clock?: { now(): Date };
}

/** Codes and sessions (see the module doc). */
export class SessionStore {
  readonly #file: string | undefined;
  readonly #clock: { now(): Date };
  readonly #codes = new Map<string, number>();
  readonly #sessions = new Map<string, SessionRecord>();
  /** Called when a session ends, by its hash (open event streams close). */
  readonly #watchers = new Map<string, Set<() => void>>();
  #writing: Promise<void> = Promise.resolve();

  constructor(options: SessionStoreOptions = {}) {
    this.#file = options.file;
    this.#clock = options.clock ?? { now: () => new Date() };
  }

  /** Reads the sessions file (a missing or unreadable file: no sessions). */
  async load(): Promise<void> {
    if (this.#file === undefined) return;
    let data: Partial<SessionFile>;
    try {
      data = JSON.parse(await Deno.readTextFile(this.#file));
    } catch {
      return; // none yet, or damaged: everyone logs in again, nothing worse
    }
    const now = this.#now();
    for (const s of Array.isArray(data.sessions) ? data.sessions : []) {
      if (typeof s?.hash !== "string" || !/^[0-9a-f]{64}$/.test(s.hash)) continue;
      const record = { hash: s.hash, createdAt: Number(s.created_at), seenAt: Number(s.seen_at) };
      if (this.#alive(record, now)) this.#sessions.set(record.hash, record);
    }
  }

  /** Mints a one-time code; only its hash is kept. */
  async mintCode(): Promise<{ code: string; expiresAt: Date }> {
    const code = randomToken();
    const now = this.#now();
    for (const [hash, expires] of this.#codes) if (expires <= now) this.#codes.delete(hash);
    while (this.#codes.size >= MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    this.#codes.set(await sha256(code), now + CODE_TTL_MS);
    return { code, expiresAt: new Date(now + CODE_TTL_MS) };
  }

  /**
   * Exchanges a code for a new session id (the cookie's value); null when the code is unknown,
   * used or expired. A code works once, even when the exchange fails later.
   */
  async exchange(code: string): Promise<string | null> {
    if (code.length < 16 || code.length > 128) return null;
    const hash = await sha256(code);
    const expires = this.#codes.get(hash);
    this.#codes.delete(hash);
    const now = this.#now();
    if (expires === undefined || expires <= now) return null;
    const id = randomToken();
    this.#sessions.set(await sha256(id), { hash: await sha256(id), createdAt: now, seenAt: now });
    this.#trim(now);
    await this.#save();
    return id;
  }

  /** The session of a cookie value, refreshing its idle timer; null when none is valid. */
  async check(id: string | undefined): Promise<Session | null> {
    if (!id || id.length > 128) return null;
    const record = this.#sessions.get(await sha256(id));
    const now = this.#now();
    if (!record) return null;
    if (!this.#alive(record, now)) {
      this.#sessions.delete(record.hash);
      this.#ended(record.hash);
      await this.#save();
      return null;
    }
    const persist = now - record.seenAt >= SEEN_WRITE_MS;
    record.seenAt = now;
    if (persist) await this.#save();
    return {
      csrf: await csrfFor(id),
      key: record.hash,
      expiresAt: Math.min(now + SESSION_IDLE_MS, record.createdAt + SESSION_MAX_MS),
    };
  }

  /** Ends one session (logout). */
  async revoke(id: string): Promise<void> {
    const hash = await sha256(id);
    if (!this.#sessions.delete(hash)) return;
    this.#ended(hash);
    await this.#save();
  }

  /** Ends every session and forgets unexchanged codes; returns how many sessions ended. */
  async revokeAll(): Promise<number> {
    const count = this.#sessions.size;
    const ended = [...this.#sessions.keys()];
    this.#sessions.clear();
    for (const hash of ended) this.#ended(hash);
    this.#codes.clear();
    await this.#save();
    return count;
  }

  /** Whether a session `check` returned is still valid now (not revoked, not expired). */
  valid(session: Session): boolean {
    const record = this.#sessions.get(session.key);
    return record !== undefined && this.#alive(record, this.#now());
  }

  /**
   * Calls `onEnd` once when the session is revoked (logout, revoke-all), found expired or
   * dropped for newer ones; returns what stops watching. Expiry is noticed when it is looked
   * at: callers that hold on to a session also poll {@linkcode valid}.
   */
  watch(session: Session, onEnd: () => void): () => void {
    let set = this.#watchers.get(session.key);
    if (!set) this.#watchers.set(session.key, set = new Set());
    const once = () => onEnd();
    set.add(once);
    return () => {
      set.delete(once);
      if (set.size === 0 && this.#watchers.get(session.key) === set) {
        this.#watchers.delete(session.key);
      }
    };
  }

  #ended(hash: string): void {
    const set = this.#watchers.get(hash);
    if (!set) return;
    this.#watchers.delete(hash);
    for (const onEnd of set) {
      try {
        onEnd();
      } catch {
        // one watcher's failure does not keep the others open
      }
    }
  }

  /** Number of live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #alive(s: SessionRecord, now: number): boolean {
    return Number.isFinite(s.createdAt) && Number.isFinite(s.seenAt) &&
      now - s.seenAt < SESSION_IDLE_MS && now - s.createdAt < SESSION_MAX_MS;
  }

  #trim(now: number): void {
    for (const s of this.#sessions.values()) {
      if (!this.#alive(s, now)) {
        this.#sessions.delete(s.hash);
        this.#ended(s.hash);
      }
    }
    const byAge = [...this.#sessions.values()].sort((a, b) => a.seenAt - b.seenAt);
    while (byAge.length > MAX_SESSIONS) {
      const hash = byAge.shift()!.hash;
      this.#sessions.delete(hash);
      this.#ended(hash);
    }
  }

  /** Writes the file (0600, replaced whole); writes are serialised. */
  #save(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    const body: SessionFile = {
      version: 1,
      sessions: [...this.#sessions.values()].map((s) => ({
        hash: s.hash,
        "created_at": s.createdAt,
        "seen_at": s.seenAt,
      })),
    };
    this.#writing = this.#writing.catch(() => {}).then(() => writePrivate(file, body));
    return this.#writing;
  }
}

/** Ends every session in a sessions file (`pylon dashboard --revoke-all` with no daemon). */
export async function revokeAllInFile(file: string): Promise<number> {
  const store = new SessionStore({ file });
  await store.load();
  return await store.revokeAll();
}

/** The CSRF token bound to a session id (HMAC-SHA256, base64url). */
export async function csrfFor(sessionId: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(sessionId),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("pylon-csrf-v1"));
  return base64url(new Uint8Array(mac));
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < y.length; i++) diff |= (x[i] ?? 0) ^ y[i]!;
  return diff === 0;
}

async function writePrivate(file: string, body: SessionFile): Promise<void> {
  await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(body) + "\n", { mode: 0o600 });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, file);
}

function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}
