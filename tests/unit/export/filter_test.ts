import assert from "node:assert/strict";
import { csvList, DEFAULT_FILTER, exportFilterSchema } from "../../../shared/export/filter.ts";

Deno.test("csvList() sorts, trims and drops duplicates and empty items", () => {
  assert.deepEqual(csvList("b, a,b,,c"), ["a", "b", "c"]);
  assert.deepEqual(csvList(""), []);
  assert.deepEqual(csvList(" , ,"), []);
  assert.deepEqual(csvList("x"), ["x"]);
});

Deno.test("DEFAULT_FILTER is valid and exports completed, generated conversations only", () => {
  assert.deepEqual(exportFilterSchema.parse(DEFAULT_FILTER), DEFAULT_FILTER);
  assert.deepEqual(DEFAULT_FILTER.statuses, ["completed"]);
  assert.deepEqual(DEFAULT_FILTER.sources, ["generated"]);
});

Deno.test("exportFilterSchema refuses what a resumed run could not compare", () => {
  const cases: [string, unknown][] = [
    ["an unknown key", { ...DEFAULT_FILTER, extra: 1 }],
    ["no status", { ...DEFAULT_FILTER, statuses: [] }],
    ["no source", { ...DEFAULT_FILTER, sources: [] }],
    ["an unknown source", { ...DEFAULT_FILTER, sources: ["scraped"] }],
    ["a user that is not a uuid", { ...DEFAULT_FILTER, users: ["alice"] }],
    ["an empty method name", { ...DEFAULT_FILTER, methods: [""] }],
    ["a missing field", { ...DEFAULT_FILTER, until: undefined }],
  ];
  for (const [name, value] of cases) {
    assert.equal(exportFilterSchema.safeParse(value).success, false, name);
  }
});
