import assert from "node:assert/strict";
import { formatRuleValue, isRuleKey, RULE_KEYS, RULES } from "../../../shared/monitor/rules.ts";

Deno.test("RULES describes every rule key once, under its own key, with a title, measure and action", () => {
  assert.deepEqual(Object.keys(RULES).sort(), [...RULE_KEYS].sort());
  assert.equal(new Set(RULE_KEYS).size, RULE_KEYS.length);
  for (const key of RULE_KEYS) {
    const info = RULES[key];
    assert.equal(info.key, key);
    for (const text of [info.title, info.measures, info.action]) assert.ok(text.trim().length > 0, key);
  }
});

Deno.test("the checklist's three alerts come first and are the only ones marked checklist", () => {
  const checklist = RULE_KEYS.filter((k) => RULES[k].origin === "checklist");
  assert.deepEqual(checklist, ["manual_review_queue", "parse_failure_rate", "raw_storage_growth"]);
  assert.deepEqual(RULE_KEYS.slice(0, 3), checklist);
});

Deno.test("every rule key is named in the migrations (its value and threshold come from SQL)", () => {
  const dir = new URL("../../../supabase/migrations/", import.meta.url);
  const sql = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".sql"))
    .map((e) => Deno.readTextFileSync(new URL(e.name, dir))).join("\n");
  for (const key of RULE_KEYS) assert.ok(sql.includes(`'${key}'`), `${key} is not in supabase/migrations`);
});

Deno.test("isRuleKey() accepts the known keys only (case and spacing matter)", () => {
  for (const key of RULE_KEYS) assert.equal(isRuleKey(key), true);
  for (const other of ["", "Manual_review_queue", "manual_review_queue ", "parse_failure", "toString"]) {
    assert.equal(isRuleKey(other), false, JSON.stringify(other));
  }
});

Deno.test("formatRuleValue() writes each unit without false precision; null is n/a", () => {
  const cases: [Parameters<typeof formatRuleValue>, string][] = [
    [["count", 14], "14"],
    [["count", 1536.6], "1,537"],
    [["percent", 12.46], "12.5 %"],
    [["percent", 0], "0 %"],
    [["megabytes", 1536.24], "1,536.2 MB"],
    [["megabytes", 2], "2 MB"],
    [["count", null], "n/a"],
    [["percent", null], "n/a"],
  ];
  for (const [args, expected] of cases) {
    assert.equal(formatRuleValue(...args), expected, JSON.stringify(args));
  }
});
