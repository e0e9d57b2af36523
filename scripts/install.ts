// deno-lint-ignore-file no-console
/**
 * Puts a `pylon` command on PATH for a source checkout: writes a small launcher,
 * `<root>/bin/pylon`, that runs this checkout's `main.ts` with exactly the permission flags of
 * the `pylon` task, this `deno.json` and its `deno.lock` (so the installed command uses the
 * locked dependency versions), from the caller's folder.
 *
 *   deno task install                          # into $DENO_INSTALL_ROOT/bin, else ~/.deno/bin
 *   deno task install --root ~/.local          # into ~/.local/bin
 *
 * A launcher rather than `deno install --global`: that copies deno.json into its own folder and
 * resolves the dependencies afresh, ignoring the checkout's lockfile. The launcher follows the
 * checkout, so `git pull` updates the command too.
 *
 * @module
 */

import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
const flags = (denoJson.tasks.pylon as string).split(/\s+/).filter((a) => a.startsWith("--allow-"));
const { values } = parseArgs({ args: Deno.args, options: { root: { type: "string" } } });
const home = Deno.env.get("HOME");
const installRoot = values.root ?? Deno.env.get("DENO_INSTALL_ROOT") ??
  (home ? `${home}/.deno` : undefined);
if (!installRoot) {
  console.error("Cannot choose where to install: none of --root, DENO_INSTALL_ROOT, HOME is set");
  Deno.exit(2);
}
// `deno task` runs in the folder of deno.json; the caller's folder is in INIT_CWD.
const base = installRoot.startsWith("/")
  ? installRoot
  : `${Deno.env.get("INIT_CWD") ?? Deno.cwd()}/${installRoot}`;
const binDir = `${base.replace(/\/$/, "")}/bin`;
const target = `${binDir}/pylon`;

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

const script = [
  "#!/bin/sh",
  `# pylon from the source checkout ${root}; written by \`deno task install\`.`,
  "# Runs with the permission flags of the checkout's `pylon` task and its deno.lock.",
  `deno=${quote(Deno.execPath())}`,
  '[ -x "$deno" ] || deno=deno',
  `exec "$deno" run --quiet ${flags.join(" ")} ` +
  `--config ${quote(`${root}/deno.json`)} ${quote(`${root}/main.ts`)} "$@"`,
  "",
].join("\n");

await Deno.mkdir(binDir, { recursive: true });
await Deno.writeTextFile(target, script);
await Deno.chmod(target, 0o755);
console.log(`Installed ${target}`);
if (/\/_npx\//.test(Deno.execPath())) {
  console.log(
    "\nNote: this Deno runs from npm's npx cache, which npm may clean; the launcher then falls " +
      "back to the `deno` on your PATH. For a lasting one: npm install -g deno@2.9.6",
  );
}
const onPath = (Deno.env.get("PATH") ?? "").split(":").some((p) => p.replace(/\/$/, "") === binDir);
if (!onPath) {
  console.log(`\n${binDir} is not on your PATH yet. Add it (and to ~/.bashrc or ~/.zshrc):`);
  console.log(`  export PATH="${binDir}:$PATH"`);
}
console.log("\nThen check it: pylon version");
