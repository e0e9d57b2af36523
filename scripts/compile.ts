// deno-lint-ignore-file no-console
/**
 * Builds the self-contained `pylon` binaries with `deno compile`, using exactly the permission
 * flags of the `pylon` task (never `-A`).
 *
 *   deno task compile                 # every release target into dist/
 *   deno task compile --target x86_64-unknown-linux-gnu
 *
 * `deno compile` downloads a `denort` runtime per target from Deno's servers; offline, point
 * `DENORT_BIN` at a denort binary of the host's target.
 *
 * After building, it writes `<out>/checksums.txt` in `sha256sum` format (`<hex>  <file>`) for the
 * binaries built in this run; `install.sh` verifies downloads against it.
 *
 * @module
 */

import { parseArgs } from "node:util";

const TARGETS: Record<string, string> = {
  "x86_64-unknown-linux-gnu": "pylon-linux-x64",
  "aarch64-unknown-linux-gnu": "pylon-linux-arm64",
  "x86_64-apple-darwin": "pylon-darwin-x64",
  "aarch64-apple-darwin": "pylon-darwin-arm64",
};

const root = new URL("..", import.meta.url).pathname;
const denoJson = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
const flags = (denoJson.tasks.pylon as string).split(/\s+/).filter((a) => a.startsWith("--allow-"));
const { values } = parseArgs({
  args: Deno.args,
  options: { target: { type: "string", multiple: true }, out: { type: "string", default: "dist" } },
});
const targets = values.target ?? Object.keys(TARGETS);
const outDir = values.out.startsWith("/") ? values.out : `${root}${values.out}`;
await Deno.mkdir(outDir, { recursive: true });

let failed = 0;
const built: string[] = [];
for (const target of targets) {
  const name = TARGETS[target];
  if (!name) {
    console.error(`Unknown target "${target}"; use one of ${Object.keys(TARGETS).join(", ")}`);
    Deno.exit(2);
  }
  const output = `${outDir}/${name}`;
  // The agent images' files are compiled in through src/runner/embedded.ts (deno task embed).
  const args = [
    "compile",
    ...flags,
    "--target",
    target,
    "--output",
    output,
    // Workers are not found by the module graph: the WAL checkpointer's must be named.
    "--include",
    `${root}src/store/checkpoint_worker.ts`,
    `${root}main.ts`,
  ];
  console.log(`Building ${name} (pylon ${denoJson.version})`);
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  if (result.code === 0) {
    built.push(name);
  } else {
    failed++;
    if (!Deno.env.get("DENORT_BIN")) {
      console.error(
        `Cannot build ${name}: deno compile could not get the denort runtime for ${target}. ` +
          "Offline, set DENORT_BIN to a denort binary for this target.",
      );
    }
  }
}
if (built.length > 0) {
  const lines = [];
  for (const name of built) {
    const bytes = await Deno.readFile(`${outDir}/${name}`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    lines.push(`${hex}  ${name}\n`);
  }
  await Deno.writeTextFile(`${outDir}/checksums.txt`, lines.join(""));
  console.log(`Wrote ${values.out}/checksums.txt (${built.length} binaries)`);
}
Deno.exit(failed === 0 ? 0 : 1);
