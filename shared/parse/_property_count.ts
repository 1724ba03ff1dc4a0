/**
 * Repeated property names: JSON.parse keeps only the last value of a name that occurs twice in one object, so the
 * first is silently lost. With unescaped inner quotes this is how content disappears even from text that parses:
 * `"content": "He said "x", "content": "y"` is valid JSON whose content reads "y". Comparing how many names the
 * text holds with how many properties the parsed value has finds it in one pass, without a second parser.
 *
 * used by: shared/parse/chain.ts (direct and extracted JSON), shared/parse/repair.ts (repaired JSON).
 */
import { isRecord } from "./_is_record.ts";

/** Every string, with the colon after it when it is a property name. Correct only on text JSON.parse accepts. */
const STRING = /"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?/g;

/** Property names in valid JSON text: the strings followed by a colon. */
export function countPropertyNames(json: string): number {
  let count = 0;
  STRING.lastIndex = 0;
  for (let match = STRING.exec(json); match !== null; match = STRING.exec(json)) {
    if (match[1] !== undefined) count++;
  }
  return count;
}

/** Properties in all objects of a parsed value. Iterative: repaired input can nest deeper than the stack. */
export function countProperties(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    // No spread: an array of many thousand elements would exceed the argument limit.
    const children = Array.isArray(item) ? item : isRecord(item) ? Object.values(item) : [];
    if (isRecord(item)) count += children.length;
    for (const child of children) pending.push(child);
  }
  return count;
}

/** Whether valid JSON `json`, parsed as `value`, repeats a property name within one object. */
export function repeatsPropertyName(json: string, value: unknown): boolean {
  return countProperties(value) < countPropertyNames(json);
}
