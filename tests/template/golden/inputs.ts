/**
 * Inputs of the golden test. Run as a program it prints them as JSON for `gen.go`, which adds
 * Go's output and writes `cases.json`:
 *
 *     deno run tests/template/golden/inputs.ts | go run tests/template/golden/gen.go > tests/template/golden/cases.json
 *
 * @module
 */

import { cases } from "./case_list.ts";
import "./inputs_language.ts";
import "./inputs_control.ts";
import "./inputs_funcs.ts";
import "./inputs_errors.ts";
import "./inputs_prompts.ts";
import "./inputs_edge.ts";

if (import.meta.main) {
  let out = new TextEncoder().encode(JSON.stringify(cases, null, 2) + "\n");
  while (out.length > 0) out = out.subarray(await Deno.stdout.write(out));
}
