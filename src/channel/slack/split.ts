/**
 * Splits Slack mrkdwn into messages that fit a length limit without breaking code blocks: a cut
 * inside a ``` block closes the block at the end of one message and reopens it in the next.
 *
 * Cuts prefer blank lines, then line ends, then spaces; a cut never lands inside an `&amp;`-style
 * entity, a `<url|label>` link or a surrogate pair. Lengths are UTF-16 units (`String.length`),
 * which never undercounts what Slack counts.
 *
 * @module
 */

const FENCE = "```";
const FENCE_OVERHEAD = (FENCE + "\n").length + ("\n" + FENCE).length;

/** One paragraph, or one whole code block (which may contain blank lines). */
interface Block {
  text: string;
  code: boolean;
}

/** Splits `text` into pieces of at most `max` characters (`max` ≥ 16). */
export function splitMrkdwn(text: string, max: number): string[] {
  if (max < 16) throw new RangeError(`Cannot split Slack text: max is ${max}, below 16`);
  if (text.length <= max) return [text];
  const chunks: string[] = [];
  let current = "";
  for (const block of toBlocks(text)) {
    const candidate = current === "" ? block.text : `${current}\n\n${block.text}`;
    if (candidate.length <= max) {
      current = candidate;
      continue;
    }
    if (current !== "") chunks.push(current);
    const pieces = block.text.length <= max ? [block.text] : splitBlock(block, max);
    chunks.push(...pieces.slice(0, -1));
    current = pieces.at(-1) ?? "";
  }
  if (current !== "") chunks.push(current);
  return chunks;
}

function isFence(line: string): boolean {
  return line.trimStart().startsWith(FENCE);
}

/** Groups lines into paragraphs and code blocks, dropping the blank lines between them. */
function toBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let lines: string[] = [];
  let inCode = false;
  const flush = (code: boolean) => {
    if (lines.length > 0) blocks.push({ text: lines.join("\n"), code });
    lines = [];
  };
  for (const line of text.split("\n")) {
    if (inCode) {
      lines.push(line);
      if (isFence(line)) {
        inCode = false;
        flush(true);
      }
    } else if (isFence(line) && !/```.*```/.test(line)) {
      flush(false);
      lines.push(line);
      inCode = true;
    } else if (line.trim() === "") {
      flush(false);
    } else {
      lines.push(line);
    }
  }
  flush(inCode);
  return blocks;
}

/** Splits one block that is longer than `max` on its lines, re-fencing code. */
function splitBlock(block: Block, max: number): string[] {
  if (!block.code) return packLines(block.text.split("\n"), max);
  const lines = block.text.split("\n");
  const inner = lines.slice(1, isFence(lines.at(-1) ?? "") && lines.length > 1 ? -1 : undefined);
  return packLines(inner, max - FENCE_OVERHEAD).map((piece) => `${FENCE}\n${piece}\n${FENCE}`);
}

function packLines(lines: string[], max: number): string[] {
  const pieces: string[] = [];
  let current: string | undefined;
  for (const line of lines) {
    const candidate = current === undefined ? line : `${current}\n${line}`;
    if (candidate.length <= max) {
      current = candidate;
      continue;
    }
    if (current !== undefined) pieces.push(current);
    const parts = line.length <= max ? [line] : hardSplit(line, max);
    pieces.push(...parts.slice(0, -1));
    current = parts.at(-1);
  }
  if (current !== undefined) pieces.push(current);
  return pieces;
}

/** Cuts one long line, preferring a space in the last quarter of each piece. */
function hardSplit(line: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > max) {
    const cut = safeCut(rest, max);
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}

function safeCut(text: string, max: number): number {
  let cut = max;
  const space = text.lastIndexOf(" ", max - 1);
  if (space >= Math.floor(max * 0.75)) cut = space + 1;
  const head = text.slice(0, cut);
  const amp = head.lastIndexOf("&");
  if (amp > 0 && cut - amp < 8 && !head.slice(amp).includes(";")) cut = amp;
  const open = text.lastIndexOf("<", cut - 1);
  if (open > 0 && open > text.lastIndexOf(">", cut - 1) && cut - open < max / 2) cut = open;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return Math.max(1, cut);
}
