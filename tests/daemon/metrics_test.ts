import assert from "node:assert/strict";
import { createMetrics, LATENCY_BUCKETS, METRICS_CONTENT_TYPE } from "../../src/daemon/metrics.ts";

Deno.test("METRICS_CONTENT_TYPE is Prometheus text format 0.0.4", () => {
  assert.equal(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("render() prints a small registry exactly", async () => {
  const metrics = createMetrics();
  const webhooks = metrics.counter("pylon_webhooks_total", "Webhook requests by outcome.", {
    labels: ["pylon", "outcome"],
  });
  const restarts = metrics.counter("pylon_restarts_total", "Daemon restarts.");
  const slots = metrics.gauge("pylon_slots_in_use", "Container slots in use.");
  const latency = metrics.histogram("pylon_webhook_seconds", "Webhook handling time.", {
    labels: ["pylon"],
    buckets: [0.01, 0.1, 1],
  });
  webhooks.inc({ pylon: "sentry", outcome: "accepted" });
  webhooks.inc({ pylon: "sentry", outcome: "accepted" }, 2);
  webhooks.inc({ pylon: "github", outcome: "rejected" });
  slots.set(3);
  slots.dec();
  latency.observe({ pylon: "sentry" }, 0.004);
  latency.observe({ pylon: "sentry" }, 0.1);
  latency.observe({ pylon: "sentry" }, 7);
  assert.equal(
    await metrics.render(),
    [
      "# HELP pylon_webhooks_total Webhook requests by outcome.",
      "# TYPE pylon_webhooks_total counter",
      'pylon_webhooks_total{pylon="sentry",outcome="accepted"} 3',
      'pylon_webhooks_total{pylon="github",outcome="rejected"} 1',
      "# HELP pylon_restarts_total Daemon restarts.",
      "# TYPE pylon_restarts_total counter",
      "pylon_restarts_total 0",
      "# HELP pylon_slots_in_use Container slots in use.",
      "# TYPE pylon_slots_in_use gauge",
      "pylon_slots_in_use 2",
      "# HELP pylon_webhook_seconds Webhook handling time.",
      "# TYPE pylon_webhook_seconds histogram",
      'pylon_webhook_seconds_bucket{pylon="sentry",le="0.01"} 1',
      'pylon_webhook_seconds_bucket{pylon="sentry",le="0.1"} 2',
      'pylon_webhook_seconds_bucket{pylon="sentry",le="1"} 2',
      'pylon_webhook_seconds_bucket{pylon="sentry",le="+Inf"} 3',
      'pylon_webhook_seconds_sum{pylon="sentry"} 7.104',
      'pylon_webhook_seconds_count{pylon="sentry"} 3',
      "",
    ].join("\n"),
  );
  restarts.inc();
  assert.match(await metrics.render(), /^pylon_restarts_total 1$/m);
});

Deno.test("render() prints nothing for an empty registry", async () => {
  assert.equal(await createMetrics().render(), "");
});

Deno.test("render() escapes label values and HELP text", async () => {
  const metrics = createMetrics();
  const errors = metrics.counter(
    "pylon_errors_total",
    'Errors by "reason".\nOne per line \\ slash.',
    {
      labels: ["reason"],
    },
  );
  errors.inc({ reason: 'bad "quote"' });
  errors.inc({ reason: "back\\slash" });
  errors.inc({ reason: "two\nlines" });
  assert.equal(
    await metrics.render(),
    [
      '# HELP pylon_errors_total Errors by "reason".\\nOne per line \\\\ slash.',
      "# TYPE pylon_errors_total counter",
      'pylon_errors_total{reason="bad \\"quote\\""} 1',
      'pylon_errors_total{reason="back\\\\slash"} 1',
      'pylon_errors_total{reason="two\\nlines"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("histogram buckets are cumulative, with values on a bound counted in it", async () => {
  const metrics = createMetrics();
  const latency = metrics.histogram("pylon_latency_seconds", "Latency.");
  const observations = [0.0005, 0.001, 0.001, 0.003, 0.02, 0.2, 0.2, 0.9, 2.5, 3, Number.NaN];
  for (const value of observations) latency.observe(value);
  const text = await metrics.render();
  const buckets = [...text.matchAll(/_bucket\{le="([^"]+)"\} (\S+)/g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(buckets, [
    ["0.001", "3"],
    ["0.0025", "3"],
    ["0.005", "4"],
    ["0.01", "4"],
    ["0.025", "5"],
    ["0.05", "5"],
    ["0.1", "5"],
    ["0.25", "7"],
    ["0.5", "7"],
    ["1", "8"],
    ["2.5", "9"],
    ["+Inf", "10"],
  ]);
  assert.equal(buckets.length, LATENCY_BUCKETS.length + 1);
  assert.match(text, /^pylon_latency_seconds_count 10$/m);
  const sum = Number(/^pylon_latency_seconds_sum (\S+)$/m.exec(text)?.[1]);
  assert.ok(Math.abs(sum - 6.8255) < 1e-9);
});

Deno.test("an unlabelled histogram renders zeros before any observation", async () => {
  const metrics = createMetrics();
  metrics.histogram("pylon_idle_seconds", "Idle.", { buckets: [1] });
  assert.equal(
    await metrics.render(),
    [
      "# HELP pylon_idle_seconds Idle.",
      "# TYPE pylon_idle_seconds histogram",
      'pylon_idle_seconds_bucket{le="1"} 0',
      'pylon_idle_seconds_bucket{le="+Inf"} 0',
      "pylon_idle_seconds_sum 0",
      "pylon_idle_seconds_count 0",
      "",
    ].join("\n"),
  );
});

Deno.test("gauge callbacks are awaited at every render", async () => {
  const metrics = createMetrics();
  let depth = 0;
  let jobs = [
    { labels: { pylon: "sentry", status: "queued" }, value: 2 },
    { labels: { pylon: "sentry", status: "running" }, value: 1 },
  ];
  metrics.gauge("pylon_queue_depth", "Jobs waiting for a slot.", {
    collect: async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return depth;
    },
  });
  metrics.gauge("pylon_jobs", "Jobs by pylon and status.", {
    labels: ["pylon", "status"],
    collect: () => Promise.resolve(jobs),
  });
  depth = 4;
  assert.equal(
    await metrics.render(),
    [
      "# HELP pylon_queue_depth Jobs waiting for a slot.",
      "# TYPE pylon_queue_depth gauge",
      "pylon_queue_depth 4",
      "# HELP pylon_jobs Jobs by pylon and status.",
      "# TYPE pylon_jobs gauge",
      'pylon_jobs{pylon="sentry",status="queued"} 2',
      'pylon_jobs{pylon="sentry",status="running"} 1',
      "",
    ].join("\n"),
  );
  depth = 0;
  jobs = [];
  assert.match(await metrics.render(), /^pylon_queue_depth 0\n# HELP pylon_jobs/m);
  assert.ok((await metrics.render()).endsWith("# TYPE pylon_jobs gauge\n"));
});

Deno.test("render() rejects with the metric name when a callback fails", async () => {
  const metrics = createMetrics();
  const cause = new Error("database is locked");
  metrics.gauge("pylon_jobs", "Jobs.", { collect: () => Promise.reject(cause) });
  await assert.rejects(metrics.render(), (error: Error) => {
    assert.equal(error.message, "Cannot collect pylon_jobs: database is locked");
    assert.equal(error.cause, cause);
    return true;
  });
});

Deno.test("with() returns a reusable handle for one label set", async () => {
  const metrics = createMetrics();
  const webhooks = metrics.counter("pylon_webhooks_total", "Webhooks.", { labels: ["pylon"] });
  const latency = metrics.histogram("pylon_webhook_seconds", "Latency.", {
    labels: ["pylon"],
    buckets: [1],
  });
  const slots = metrics.gauge("pylon_slots", "Slots.", { labels: ["pool"] });
  const sentry = webhooks.with({ pylon: "sentry" });
  sentry.inc();
  sentry.inc(4);
  webhooks.inc({ pylon: "sentry" });
  assert.equal(webhooks.with({ pylon: "sentry" }), sentry);
  latency.with({ pylon: "sentry" }).observe(0.5);
  const pool = slots.with({ pool: "default" });
  pool.set(5);
  pool.inc(2);
  pool.dec();
  const text = await metrics.render();
  assert.match(text, /^pylon_webhooks_total\{pylon="sentry"\} 6$/m);
  assert.match(text, /^pylon_webhook_seconds_count\{pylon="sentry"\} 1$/m);
  assert.match(text, /^pylon_slots\{pool="default"\} 6$/m);
});

Deno.test("label sets never share a series, whatever their values contain", async () => {
  const metrics = createMetrics();
  const pairs = metrics.counter("pylon_pairs_total", "Pairs.", { labels: ["a", "b"] });
  pairs.inc({ a: "1:x", b: "" });
  pairs.inc({ a: "1", b: "x" });
  pairs.inc({ a: "", b: "1:x" });
  const lines = (await metrics.render()).split("\n").filter((line) => line.startsWith("pylon_"));
  assert.deepEqual(lines, [
    'pylon_pairs_total{a="1:x",b=""} 1',
    'pylon_pairs_total{a="1",b="x"} 1',
    'pylon_pairs_total{a="",b="1:x"} 1',
  ]);
});

Deno.test("values print as Prometheus parses them", async () => {
  const metrics = createMetrics();
  const gauge = metrics.gauge("pylon_value", "Value.", { labels: ["case"] });
  gauge.set({ case: "int" }, 1_000_000);
  gauge.set({ case: "float" }, 0.25);
  gauge.set({ case: "inf" }, Infinity);
  gauge.set({ case: "-inf" }, -Infinity);
  gauge.set({ case: "nan" }, NaN);
  const values = (await metrics.render()).split("\n").filter((line) => line.startsWith("pylon_"))
    .map((line) => line.split(" ")[1]);
  assert.deepEqual(values, ["1000000", "0.25", "+Inf", "-Inf", "NaN"]);
});

Deno.test("registration refuses bad names, labels and buckets", async (t) => {
  const metrics = createMetrics();
  metrics.counter("pylon_taken_total", "Taken.");
  const cases: [string, () => unknown, string][] = [
    [
      "no prefix",
      () => metrics.counter("webhooks_total", "x"),
      'Cannot register metric "webhooks_total": names are pylon_ followed by [a-zA-Z0-9_]',
    ],
    [
      "bad character",
      () => metrics.gauge("pylon_a-b", "x"),
      'Cannot register metric "pylon_a-b": names are pylon_ followed by [a-zA-Z0-9_]',
    ],
    [
      "duplicate",
      () => metrics.gauge("pylon_taken_total", "x"),
      'Cannot register metric "pylon_taken_total": the name is taken',
    ],
    [
      "reserved label",
      () => metrics.counter("pylon_a", "x", { labels: ["__name"] }),
      'Cannot register metric "pylon_a": label "__name" is invalid',
    ],
    [
      "le on a histogram",
      () => metrics.histogram("pylon_b", "x", { labels: ["le"] }),
      'Cannot register metric "pylon_b": label "le" is invalid',
    ],
    [
      "repeated label",
      () => metrics.counter("pylon_c", "x", { labels: ["a", "a"] }),
      'Cannot register metric "pylon_c": label "a" is invalid',
    ],
  ];
  for (const [name, register, message] of cases) {
    await t.step(name, () => assert.throws(register, { name: "TypeError", message }));
  }
  await t.step("buckets", () => {
    for (const buckets of [[1, 1], [2, 1], [1, Infinity]]) {
      assert.throws(() => metrics.histogram("pylon_d", "x", { buckets }), {
        name: "RangeError",
        message: 'Cannot register metric "pylon_d": buckets must be finite and strictly increasing',
      });
    }
  });
});

Deno.test("counters refuse to go down", () => {
  const metrics = createMetrics();
  const counter = metrics.counter("pylon_x_total", "X.");
  assert.throws(() => counter.inc(-1), {
    name: "RangeError",
    message: "Cannot increment pylon_x_total by -1: counters only go up",
  });
});

Deno.test("instruments type their label arguments", () => {
  const metrics = createMetrics();
  const labelled = metrics.counter("pylon_typed_total", "Typed.", { labels: ["pylon"] });
  const plain = metrics.histogram("pylon_plain_seconds", "Plain.");
  // @ts-expect-error a labelled callback returns samples, not a bare number
  const jobs = metrics.gauge("pylon_typed_jobs", "Jobs.", { labels: ["status"], collect: () => 3 });
  assert.equal(jobs, undefined);
  // @ts-expect-error the labels are required
  assert.throws(() => labelled.inc(), { name: "TypeError" });
  // @ts-expect-error an unknown label name
  assert.throws(() => labelled.inc({ pylon_name: "x" }), {
    message: 'Cannot record pylon_typed_total: label "pylon" is not a string',
  });
  // @ts-expect-error no labels were declared
  plain.observe({ pylon: "x" }, 1);
});
