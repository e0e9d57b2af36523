/**
 * A whole {@linkcode Job} row for tests that drive channels and messages without a store:
 * a queued webhook job created at 2026-11-24T10:00:00Z, with every optional field empty.
 */

import type { Job } from "../../src/store/mod.ts";

/** The creation time of {@linkcode fakeJob}'s jobs. */
export const FAKE_JOB_AT = new Date("2026-11-24T10:00:00Z");

/** A job with `overrides` applied over empty defaults. */
export function fakeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: crypto.randomUUID(),
    pylon: "alpha",
    status: "queued",
    trigger: "webhook",
    deliveryId: null,
    payload: {},
    headers: {},
    createdAt: FAKE_JOB_AT,
    queuedAt: FAKE_JOB_AT,
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    containerId: null,
    exitCode: null,
    attempt: 1,
    parentId: null,
    result: null,
    error: null,
    sessionId: null,
    prompt: null,
    repo: null,
    ref: null,
    thread: null,
    threadKey: null,
    notified: null,
    dedupeKey: null,
    repeats: 1,
    supersedeKey: null,
    bodyDigest: null,
    usage: null,
    ...overrides,
  };
}
