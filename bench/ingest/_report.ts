/**
 * Result rows of the ingest benchmark and their Markdown table.
 *
 * @module
 */

/** One measured number of the daemon next to its baseline from the same run. */
export interface Row {
  metric: string;
  unit: string;
  pylon: number;
  baseline: number;
  /** What the issue aims for, e.g. `≥ 50 % of baseline`. */
  aim: string;
  /** Whether the aim is met. */
  met: boolean;
}

/** What a scenario returns: its rows and one-line notes (counts, checks, caveats). */
export interface ScenarioResult {
  name: string;
  rows: Row[];
  notes: string[];
  /** False when a correctness check failed (e.g. a 202 without a job). */
  ok: boolean;
}

/** Formats a number for the table: 3 significant digits, thousands kept whole. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  return String(Number(n.toPrecision(3)));
}

/** `pylon / baseline`: a percentage up to 1000 %, a factor above (`22.4×`). */
export function ratio(row: Row): string {
  const r = row.pylon / row.baseline;
  return r < 10 ? `${num(r * 100)} %` : `${num(r)}×`;
}

/** The rows of every scenario as one Markdown table. */
export function markdownTable(results: ScenarioResult[]): string {
  const lines = [
    "| Metric | pylon | baseline | pylon / baseline | Aim | Met |",
    "| --- | ---: | ---: | ---: | --- | :-: |",
  ];
  for (const result of results) {
    for (const r of result.rows) {
      lines.push(
        `| ${r.metric} | ${num(r.pylon)} ${r.unit} | ${num(r.baseline)} ${r.unit} | ${
          ratio(r)
        } | ${r.aim} | ${r.aim === "" ? "" : r.met ? "yes" : "**no**"} |`,
      );
    }
  }
  return lines.join("\n");
}
