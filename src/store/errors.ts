/**
 * Errors of the job store: a database that cannot be used, and a job id nobody knows.
 *
 * @module
 */

import { PylonError, type PylonErrorOptions } from "../errors.ts";

/** A job database that cannot be opened, read or written. */
export class StoreError extends PylonError {
  /** The database file. */
  readonly dbPath: string;

  constructor(message: string, options: PylonErrorOptions & { dbPath: string }) {
    super(message, options);
    this.name = "StoreError";
    this.dbPath = options.dbPath;
  }
}

/** No job has this id or id prefix. */
export class JobNotFoundError extends PylonError {
  /** What the caller looked for. */
  readonly idOrPrefix: string;

  constructor(idOrPrefix: string, options: PylonErrorOptions = {}) {
    super(
      idOrPrefix === ""
        ? "Cannot find a job: the job id is empty"
        : `Job "${idOrPrefix}" not found`,
      { hint: "run `pylon jobs` to see job ids", ...options },
    );
    this.name = "JobNotFoundError";
    this.idOrPrefix = idOrPrefix;
  }
}

/**
 * Hints by SQLite's error text: `node:sqlite` errors carry only the generic `ERR_SQLITE_ERROR`
 * code, and SQLite's messages for these result codes are fixed (`sqlite3_errstr`).
 */
const HINTS: [RegExp, string][] = [
  [
    /database is locked|database table is locked/,
    "another process holds the database lock; try again, or stop it",
  ],
  [
    /readonly|unable to open|access permission|authorization denied/,
    "check that the folder and file are writable by this user",
  ],
  [
    /malformed|not a database/,
    "the file is damaged or not a job database; move it away to start afresh",
  ],
  [/disk is full|disk I\/O error/, "check free disk space and the disk itself"],
  [/database is not open/, "the store was closed; this is a bug in pylon, please report it"],
];

/**
 * Wraps a SQLite failure with the operation and the database path. The message carries the
 * SQLite error text only (never statement arguments, so no payload contents).
 */
export function storeError(e: unknown, dbPath: string, op: string): StoreError {
  if (e instanceof StoreError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  const hint = HINTS.find(([re]) => re.test(detail))?.[1] ??
    "check the disk and the file's permissions, then try again";
  return new StoreError(`Cannot ${op} in ${dbPath}: ${detail}`, { dbPath, hint, cause: e });
}
