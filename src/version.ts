/**
 * The program's version, read from deno.json so the release build stamps exactly one number.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** Version of this build, e.g. `0.1.0`. */
export const VERSION: string = denoJson.version;
