/**
 * A small metrics registry rendered as Prometheus text exposition format 0.0.4, hand-written so
 * `/metrics` needs no dependency. Pure: the registry holds numbers; gauges that mirror state kept
 * elsewhere (jobs by status in the stores, queue depth) are read by callbacks at scrape time.
 *
 * Recording runs per request, so it allocates nothing once a label set has been seen: counters
 * and gauges add to a number, histograms scan their fixed buckets and bump one slot, and `with()`
 * returns a handle that skips even the label lookup.
 *
 * @module
 */

/** The `Content-Type` of {@linkcode Metrics.render}'s output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

// deno-fmt-ignore
/** Histogram buckets for request latency in seconds (1 ms to 2.5 s). */
export const LATENCY_BUCKETS: readonly number[] =
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Values for every label of an instrument. */
export type LabelValues<L extends string> = Readonly<Record<L, string>>;
/** The leading label argument: present only when the instrument has labels. */
export type LabelArgs<L extends string> = [L] extends [never] ? [] : [labels: LabelValues<L>];

/** A counter bound to one label set. */
export interface CounterChild {
  /** Adds `by` (default 1, never negative). */
  inc(by?: number): void;
}
/** A gauge bound to one label set. */
export interface GaugeChild {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
}
/** A histogram bound to one label set. */
export interface HistogramChild {
  /** Records one value; O(buckets), no allocation. A NaN is dropped (it would poison `_sum`). */
  observe(value: number): void;
}

/** A monotonically increasing count, e.g. `pylon_webhooks_total{pylon,outcome}`. */
export interface Counter<L extends string = never> {
  inc(...args: [...LabelArgs<L>, by?: number]): void;
  /** The series for one label set, for hot paths that reuse it. */
  with(...args: LabelArgs<L>): CounterChild;
}
/** A value that goes up and down, set by the code that owns it. */
export interface Gauge<L extends string = never> {
  set(...args: [...LabelArgs<L>, value: number]): void;
  inc(...args: [...LabelArgs<L>, by?: number]): void;
  dec(...args: [...LabelArgs<L>, by?: number]): void;
  with(...args: LabelArgs<L>): GaugeChild;
}
/** A distribution over fixed buckets, rendered as `_bucket`, `_sum` and `_count`. */
export interface Histogram<L extends string = never> {
  observe(...args: [...LabelArgs<L>, value: number]): void;
  with(...args: LabelArgs<L>): HistogramChild;
}

/** One labelled sample returned by a gauge callback. */
export interface GaugeSample<L extends string> {
  labels: LabelValues<L>;
  value: number;
}
/** Reads a gauge at scrape time: a number without labels, one sample per label set with them. */
export type GaugeCollector<L extends string> = () =>
  | GaugeReading<L>
  | Promise<GaugeReading<L>>;
type GaugeReading<L extends string> = [L] extends [never] ? number
  : readonly GaugeSample<L>[];

/** Options shared by every instrument. */
export interface InstrumentOptions<L extends string> {
  /** Label names, in the order they are rendered. @default [] */
  labels?: readonly L[];
}
/** Options of a histogram. */
export interface HistogramOptions<L extends string> extends InstrumentOptions<L> {
  /** Upper bounds, strictly increasing; `+Inf` is implicit. @default LATENCY_BUCKETS */
  buckets?: readonly number[];
}

/** The registry. Metric names must start with `pylon_`; each name registers once. */
export interface Metrics {
  /** @throws {TypeError} on a bad or duplicate name or label */
  counter<const L extends string = never>(
    name: string,
    help: string,
    options?: InstrumentOptions<L>,
  ): Counter<L>;
  /** A gauge read by `collect` at every render (its rejection fails the render). */
  gauge<const L extends string = never>(
    name: string,
    help: string,
    options: InstrumentOptions<L> & { collect: GaugeCollector<L> },
  ): void;
  /** A gauge set by its owner. */
  gauge<const L extends string = never>(
    name: string,
    help: string,
    options?: InstrumentOptions<L>,
  ): Gauge<L>;
  /** @throws {RangeError} when the buckets are not finite and strictly increasing */
  histogram<const L extends string = never>(
    name: string,
    help: string,
    options?: HistogramOptions<L>,
  ): Histogram<L>;
  /** Every metric in registration order, as Prometheus text format 0.0.4. */
  render(): Promise<string>;
}

const METRIC_NAME_REGEXP = /^pylon_[a-zA-Z0-9_]+$/;
const LABEL_NAME_REGEXP = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type MetricType = "counter" | "gauge" | "histogram";

/** What `counter()`, `gauge()` and `histogram()` accept, before their public typing. */
interface AnyOptions {
  labels?: readonly string[];
  buckets?: readonly number[];
  collect?: () => unknown;
}

/** One registered metric: its header plus how to print its samples. */
interface Family {
  name: string;
  help: string;
  type: MetricType;
  /** Appends sample lines (each ending in a newline) to `out`; may await a collector. */
  samples(out: string[]): Promise<void> | void;
}

/** Creates an empty registry; does no I/O. */
export function createMetrics(): Metrics {
  const families: Family[] = [];
  function register(type: MetricType, name: string, help: string, options: AnyOptions = {}) {
    const labels = options.labels ?? [];
    const reason = registrationProblem(type, name, labels, families);
    if (reason !== undefined) throw new TypeError(`Cannot register metric "${name}": ${reason}`);
    const bounds = type === "histogram" ? checkBuckets(name, options.buckets) : undefined;
    const series = new SeriesMap(name, type, labels, bounds);
    const { collect } = options;
    families.push({
      name,
      help,
      type,
      samples: collect === undefined
        ? (out) => series.render(out)
        : (out) => collected(name, labels, collect, out),
    });
    return collect === undefined ? new Instrument(series) : undefined;
  }
  const metrics = {
    counter: (name: string, help: string, options?: AnyOptions) =>
      register("counter", name, help, options),
    gauge: (name: string, help: string, options?: AnyOptions) =>
      register("gauge", name, help, options),
    histogram: (name: string, help: string, options?: AnyOptions) =>
      register("histogram", name, help, options),
    async render(): Promise<string> {
      const parts = await Promise.all(families.map(async ({ name, help, type, samples }) => {
        const out = [`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`];
        await samples(out);
        return out.join("");
      }));
      return parts.join("");
    },
  };
  // The public overloads (typed label tuples) are views of these untyped implementations.
  return metrics as unknown as Metrics;
}

function registrationProblem(
  type: MetricType,
  name: string,
  labels: readonly string[],
  families: readonly Family[],
): string | undefined {
  if (!METRIC_NAME_REGEXP.test(name)) return "names are pylon_ followed by [a-zA-Z0-9_]";
  if (families.some((family) => family.name === name)) return "the name is taken";
  const bad = labels.find((label, i) =>
    !LABEL_NAME_REGEXP.test(label) || label.startsWith("__") || labels.indexOf(label) !== i ||
    (type === "histogram" && label === "le")
  );
  return bad === undefined ? undefined : `label "${bad}" is invalid`;
}

/** Maps label values to one series each; an unlabelled instrument has exactly one series. */
class SeriesMap {
  readonly labelNames: readonly string[];
  readonly #make: () => Series;
  readonly #entries = new Map<string, { text: string; series: Series }>();
  readonly #name: string;

  constructor(
    name: string,
    type: MetricType,
    labelNames: readonly string[],
    bounds: readonly number[] | undefined,
  ) {
    this.#name = name;
    this.labelNames = labelNames;
    this.#make = () => new Series(name, type === "counter", bounds);
    if (labelNames.length === 0) this.#entries.set("", { text: "", series: this.#make() });
  }

  /** The series for `labels`, created on first use. */
  get(labels: unknown): Series {
    const names = this.labelNames;
    let key = "";
    for (const label of names) {
      const value = (labels as Record<string, unknown> | undefined)?.[label];
      if (typeof value !== "string") {
        throw new TypeError(`Cannot record ${this.#name}: label "${label}" is not a string`);
      }
      // One label keys by its value; several are length-prefixed so two sets never share a key.
      key = names.length === 1 ? value : `${key}${value.length}:${value}`;
    }
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { text: labelText(names, labels as Record<string, string>), series: this.#make() };
      this.#entries.set(key, entry);
    }
    return entry.series;
  }

  /** Appends the sample lines of every series, histograms with cumulative buckets. */
  render(out: string[]): void {
    const name = this.#name;
    for (const { text, series } of this.#entries.values()) {
      const bounds = series.bounds;
      if (bounds === undefined) {
        out.push(`${name}${braced(text)} ${formatValue(series.value)}\n`);
        continue;
      }
      const le = text === "" ? "le=" : `${text},le=`;
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += series.counts[i]!;
        out.push(`${name}_bucket{${le}"${formatValue(bounds[i]!)}"} ${formatValue(cumulative)}\n`);
      }
      out.push(`${name}_bucket{${le}"+Inf"} ${formatValue(series.count)}\n`);
      out.push(`${name}_sum${braced(text)} ${formatValue(series.sum)}\n`);
      out.push(`${name}_count${braced(text)} ${formatValue(series.count)}\n`);
    }
  }
}

/** Every public instrument shape over one {@linkcode SeriesMap}: labels first when it has any. */
class Instrument {
  readonly #series: SeriesMap;
  readonly #labelled: boolean;

  constructor(series: SeriesMap) {
    this.#series = series;
    this.#labelled = series.labelNames.length > 0;
  }

  with(labels?: unknown): Series {
    return this.#series.get(labels);
  }
  inc(first?: unknown, second?: number): void {
    this.#series.get(first).inc(this.#labelled ? second : first as number | undefined);
  }
  dec(first?: unknown, second?: number): void {
    this.#series.get(first).dec(this.#labelled ? second : first as number | undefined);
  }
  set(first: unknown, second?: number): void {
    this.#series.get(first).set(this.#labelled ? second! : first as number);
  }
  observe(first: unknown, second?: number): void {
    this.#series.get(first).observe(this.#labelled ? second! : first as number);
  }
}

/** One series: a value (counter, gauge) or per-bucket counts, sum and count (histogram). */
class Series implements CounterChild, GaugeChild, HistogramChild {
  value = 0;
  sum = 0;
  count = 0;
  readonly bounds: readonly number[] | undefined;
  /** `counts[i]` holds values in (bounds[i-1], bounds[i]]; the last slot holds the rest. */
  readonly counts: Float64Array;
  readonly #name: string;
  readonly #monotonic: boolean;

  constructor(name: string, monotonic: boolean, bounds: readonly number[] | undefined) {
    this.#name = name;
    this.#monotonic = monotonic;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds === undefined ? 0 : bounds.length + 1);
  }

  inc(by = 1): void {
    if (this.#monotonic && !(by >= 0)) {
      throw new RangeError(`Cannot increment ${this.#name} by ${by}: counters only go up`);
    }
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
  set(value: number): void {
    this.value = value;
  }
  observe(value: number): void {
    if (value !== value) return;
    const bounds = this.bounds!;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

async function collected(
  name: string,
  labelNames: readonly string[],
  collect: () => unknown,
  out: string[],
): Promise<void> {
  let reading: unknown;
  try {
    reading = await collect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot collect ${name}: ${reason}`, { cause: error });
  }
  if (typeof reading === "number") {
    out.push(`${name} ${formatValue(reading)}\n`);
    return;
  }
  for (const { labels, value } of reading as readonly GaugeSample<string>[]) {
    out.push(`${name}${braced(labelText(labelNames, labels))} ${formatValue(value)}\n`);
  }
}

function checkBuckets(name: string, buckets = LATENCY_BUCKETS): readonly number[] {
  const increasing = buckets.every((bound, i) =>
    Number.isFinite(bound) && (i === 0 || bound > buckets[i - 1]!)
  );
  if (!increasing) {
    throw new RangeError(
      `Cannot register metric "${name}": buckets must be finite and strictly increasing`,
    );
  }
  return [...buckets];
}

/** `a="x",b="y"` for the declared labels, values escaped; "" without labels. */
function labelText(names: readonly string[], values: Readonly<Record<string, unknown>>): string {
  return names.map((name) => `${name}="${escapeLabelValue(String(values[name] ?? ""))}"`).join(",");
}

function braced(text: string): string {
  return text === "" ? "" : `{${text}}`;
}

/** Label values escape backslash, double quote and line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** HELP text escapes backslash and line feed; quotes stay as they are. */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** Go `ParseFloat`-compatible: integers without a dot, `+Inf`, `-Inf`, `NaN`. */
function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}
