/**
 * Makes agent output safe to print on a terminal or render in a page: colour and style
 * sequences (SGR, `ESC [ … m`) are kept, every other escape or control sequence is dropped —
 * window titles and OSC 52 clipboard writes (`ESC ] … BEL`), cursor moves and screen clears
 * (`ESC [ … H`, `ESC [ 2 J`), device queries, DCS/APC strings, 8-bit C1 controls and lone
 * control characters. Agent output is hostile input; `pylon logs`, the event stream and the
 * dashboards share this one filter.
 *
 * Pure: no I/O, idempotent (`sanitizeAnsi(sanitizeAnsi(x)) === sanitizeAnsi(x)`).
 *
 * @module
 */

/**
 * One escape or control sequence, or a run of plain text. Alternatives, in order:
 * CSI (`ESC [` params intermediates final), OSC/DCS/SOS/PM/APC strings up to BEL or ST (or the
 * end of the text when unterminated), other two-byte escapes, a lone ESC, the 8-bit CSI and
 * string introducers with their bodies, and any other C0/C1 control character.
 */
const SEQUENCE_REGEXP =
  // deno-lint-ignore no-control-regex
  /\x1b\[([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e]?)|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|\x9c|$)|\x1b[\x20-\x2f]*[\x30-\x7e]|\x1b|\x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|[\x9d\x90\x98\x9e\x9f][\s\S]*?(?:\x07|\x1b\\|\x9c|$)|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** A whole SGR sequence (after {@linkcode sanitizeAnsi}, the only sequences left). */
// deno-lint-ignore no-control-regex
const SGR_REGEXP = /\x1b\[[0-9;:]*m/g;

/** SGR parameters: digits separated by `;` or `:` (nothing else: no private markers). */
const SGR_PARAMS_REGEXP = /^[0-9;:]*$/;

/**
 * `text` with only its SGR colour sequences and printable characters (plus tab and newline).
 *
 * @param text agent output, possibly hostile
 * @returns the same text without titles, clipboard writes, cursor moves or other controls
 */
export function sanitizeAnsi(text: string): string {
  return text.replace(
    SEQUENCE_REGEXP,
    function keepSgr(match: string, params?: string, inter?: string, final?: string) {
      if (final === "m" && inter === "" && SGR_PARAMS_REGEXP.test(params ?? "")) return match;
      return "";
    },
  );
}

/**
 * `text` without any escape or control sequence, colours included (for `NO_COLOR`, or where
 * nothing renders colour).
 */
export function stripAnsi(text: string): string {
  return sanitizeAnsi(text).replace(SGR_REGEXP, "");
}
