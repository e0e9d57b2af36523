/**
 * The budget notices' texts name the budget (a pylon's or all pylons'), the cap (daily, monthly,
 * tokens), what was spent, when the window resets (in the budget's zone) and how many jobs wait.
 */

import assert from "node:assert/strict";
import { heldText, resetText, warnText } from "../../src/notify/budget_notices.ts";
import { budgetWindow } from "../../src/queue/mod.ts";

const NOW = new Date("2026-12-05T21:30:00Z");

Deno.test("the held notice of all pylons' daily token budget", () => {
  const text = heldText({ all: true }, {
    cap: "daily_tokens",
    limit: 2_000_000,
    spent: 2_000_341,
    window: budgetWindow(NOW, "UTC", "day"),
    timezone: "UTC",
  }, 1);
  assert.match(text, /today's 2000000-token budget \(all pylons together\) is used up/);
  assert.match(text, /2000341 tokens of 2000000 tokens spent/);
  assert.match(text, /1 job is held until it resets on 6 Dec 2026, 00:00 \(UTC\)/);
});

Deno.test("the 80 % notice of a pylon's monthly budget resets in its zone", () => {
  const use = {
    cap: "monthly_usd" as const,
    limit: 500,
    spent: 412.5,
    window: budgetWindow(NOW, "Europe/Berlin", "month"),
    timezone: "Europe/Berlin",
  };
  assert.equal(resetText(use), "1 Jan 2027, 00:00 (Europe/Berlin)");
  assert.equal(
    warnText({ pylon: "triage" }, use),
    "⚠️ **82 % of this month's $500.00 budget used** (pylon **triage**): $412.50 of $500.00; " +
      "it resets on 1 Jan 2027, 00:00 (Europe/Berlin).",
  );
});
