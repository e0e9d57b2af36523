/**
 * Reads one request the approval hook wrote into `jobs/<id>/tool-requests/<call id>.json`. The
 * folder is the agent's, so the file is hostile: read with the safe reader (no links, regular
 * files only, a size cap, no blocking), every field checked, and the digest recomputed from the
 * exact input bytes in the file. Which rule the call matches is decided here again, from the
 * input shown, never taken from the file.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { readAgentFile } from "../runner/mod.ts";

/** The largest request file read (a tool input with a big edit fits). */
export const MAX_REQUEST_BYTES = 256 * 1024;

/** A call id as the hook makes it; also what the daemon accepts from anyone. */
export const CALL_ID_REGEXP = /^[a-z0-9]{1,16}$/;

/** A request file's name: `<call id>.json`. */
const FILE_REGEXP = /^([a-z0-9]{1,16})\.json$/;

/** A request as checked. */
export interface ParsedRequest {
  callId: string;
  tool: string;
  /** The exact input JSON text the hook holds (its digest is {@linkcode digest}). */
  inputJson: string;
  input: unknown;
  digest: string;
}

/** The call id of a request file's name, or undefined for any other name. */
export function requestCallId(fileName: string): string | undefined {
  return FILE_REGEXP.exec(fileName)?.[1];
}

/** SHA-256 (hex) of `text`'s UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Reads and checks `<dir>/<callId>.json`: `{ok: false, reason}` for anything but a well-formed
 * request whose digest is the input's; `missing` when the file is not there (any more).
 */
export async function readRequestFile(
  dir: string,
  callId: string,
): Promise<{ ok: true; request: ParsedRequest } | { ok: false; reason: string } | "missing"> {
  const file = await readAgentFile(join(dir, `${callId}.json`), {
    maxBytes: MAX_REQUEST_BYTES,
    signal: AbortSignal.timeout(5_000),
  });
  if (file.kind === "missing") return "missing";
  if (file.kind === "refused") return { ok: false, reason: `the request ${file.reason}` };
  return parseRequest(file.bytes, callId);
}

/**
 * Checks one request's bytes, whether a file the hook wrote or a body it sent over the agent
 * channel: a JSON object naming `callId` (any valid call id when undefined), a valid tool name,
 * and `input_json` whose SHA-256 is `digest`.
 */
export function parseRequest(
  bytes: Uint8Array,
  callId: string | undefined,
): { ok: true; request: ParsedRequest } | { ok: false; reason: string } {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, reason: "the request is not JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, reason: "the request is not a JSON object" };
  }
  const r = data as Record<string, unknown>;
  if (callId === undefined) {
    if (typeof r.call_id !== "string" || !CALL_ID_REGEXP.test(r.call_id)) {
      return { ok: false, reason: "the request's call_id is not 1-16 of [a-z0-9]" };
    }
  } else if (r.call_id !== callId) {
    return { ok: false, reason: "the request names another call id" };
  }
  const id = r.call_id as string;
  if (typeof r.tool !== "string" || !/^[A-Za-z0-9_.-]{1,200}$/.test(r.tool)) {
    return { ok: false, reason: "the request names no valid tool" };
  }
  if (typeof r.input_json !== "string") return { ok: false, reason: "the request has no input" };
  if (typeof r.digest !== "string" || sha256Hex(r.input_json) !== r.digest) {
    return { ok: false, reason: "the request's digest is not that of its input" };
  }
  let input: unknown;
  try {
    input = JSON.parse(r.input_json);
  } catch {
    return { ok: false, reason: "the request's input is not JSON" };
  }
  return {
    ok: true,
    request: { callId: id, tool: r.tool, inputJson: r.input_json, input, digest: r.digest },
  };
}

/** The longest summary line and code block shown. */
const SUMMARY_MAX = 1500;

/**
 * Markdown for people: the command, the file and a diff summary, the URL, or the input. `input`
 * is already redacted.
 */
export function summarizeCall(tool: string, input: unknown): string {
  const f = typeof input === "object" && input !== null ? input as Record<string, unknown> : {};
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const block = (text: string) => "```\n" + cut(text).replaceAll("```", "`\u200b``") + "\n```";
  if (tool === "Bash" && str(f.command) !== undefined) return `**Bash**\n${block(str(f.command)!)}`;
  const file = str(f.file_path) ?? str(f.notebook_path);
  if (file !== undefined) {
    const lines = (s: unknown) => (typeof s === "string" && s !== "" ? s.split("\n").length : 0);
    let change = "";
    if (tool === "Edit") change = ` (−${lines(f.old_string)} +${lines(f.new_string)} lines)`;
    else if (tool === "Write") change = ` (${lines(f.content)} lines)`;
    else if (tool === "MultiEdit" && Array.isArray(f.edits)) change = ` (${f.edits.length} edits)`;
    const diff = tool === "Edit" && str(f.new_string) !== undefined
      ? "\n" + block(`- ${str(f.old_string) ?? ""}\n+ ${str(f.new_string)}`)
      : "";
    return `**${tool}** \`${cut(file, 300)}\`${change}${diff}`;
  }
  if (str(f.url) !== undefined) return `**${tool}** ${cut(str(f.url)!, 500)}`;
  return `**${tool}**\n${block(JSON.stringify(input, null, 2) ?? "")}`;
}

function cut(text: string, max = SUMMARY_MAX): string {
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}
