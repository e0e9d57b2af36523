/**
 * What a reload changed, for the `pylon.reloaded` log line. Pure.
 *
 * @module
 */

/**
 * The top-level fields whose values differ between two configs (`trigger`, `agent`…), sorted;
 * `["env"]` when only the resolved environment or secrets changed (a `.env` edit), `[]` when
 * nothing did. Values are compared, never logged.
 */
export function changedFields(
  before: { config: object; secrets?: readonly string[] },
  after: { config: object; secrets?: readonly string[] },
): string[] {
  const a = before.config as Record<string, unknown>;
  const b = after.config as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const changed = [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
  if (changed.length > 0) return changed;
  const secrets = (s?: readonly string[]) => JSON.stringify([...s ?? []].sort());
  return secrets(before.secrets) !== secrets(after.secrets) ? ["env"] : [];
}
