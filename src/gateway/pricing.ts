/**
 * Model prices, for the cost of what the gateway relays (issue 19): US dollars per million
 * tokens, by model family, from Anthropic's price list. Cache writes are priced at 1.25× input
 * (the 5-minute cache), cache reads at 0.1× input. A model not on the list has no price: its
 * tokens are still counted, its cost is null (never a guess).
 *
 * Design note: Claude Code's own `total_cost_usd` (result.json) uses the same list; the gateway
 * needs its own because it counts while the job runs, response by response, and must hold a
 * budget before the agent reports anything.
 *
 * @module
 */

/** Dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Tokens of one response (or a part of one). */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

function family(input: number, output: number): ModelPrice {
  return { input, output, cacheRead: input * 0.1, cacheWrite: input * 1.25 };
}

/** Longest prefix first: `claude-opus-4-5` before `claude-opus-4`. */
const PRICES: readonly [prefix: string, price: ModelPrice][] = [
  ["claude-opus-4-5", family(5, 25)],
  ["claude-opus-4", family(15, 75)],
  ["claude-3-opus", family(15, 75)],
  ["claude-sonnet-4", family(3, 15)],
  ["claude-3-7-sonnet", family(3, 15)],
  ["claude-3-5-sonnet", family(3, 15)],
  ["claude-haiku-4", family(1, 5)],
  ["claude-3-5-haiku", family(0.8, 4)],
  ["claude-3-haiku", family(0.25, 1.25)],
];

/** The price of `model`, or undefined when it is not on the list. */
export function priceOf(model: string): ModelPrice | undefined {
  const name = model.toLowerCase();
  return PRICES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/** The cost of `tokens` of `model` in dollars (rounded to 1e-9); null without a price. */
export function costOf(model: string, tokens: TokenCounts): number | null {
  const p = priceOf(model);
  if (!p) return null;
  const usd = (tokens.inputTokens * p.input + tokens.outputTokens * p.output +
    tokens.cacheReadTokens * p.cacheRead + tokens.cacheCreationTokens * p.cacheWrite) / 1e6;
  return Math.round(usd * 1e9) / 1e9;
}
