import assert from "node:assert/strict";
import { jsonbSafe } from "../../../shared/adapters/postgres_parse_queue.ts";

Deno.test("jsonbSafe() replaces U+0000 in every string and key, and leaves everything else as it is", () => {
  const value = {
    turns: [{ content: "a\u0000b", intensity: 0.5, ok: true, none: null }],
    "k\u0000": ["\u0000", 1, "clean \ud800 é"],
  };
  assert.deepEqual(jsonbSafe(value), {
    turns: [{ content: "a\ufffdb", intensity: 0.5, ok: true, none: null }],
    "k\ufffd": ["\ufffd", 1, "clean \ud800 é"],
  });
  assert.ok(!JSON.stringify(jsonbSafe(value)).includes("\\u0000"), "nothing jsonb would refuse");
  assert.equal(jsonbSafe(null), null);
  assert.equal(jsonbSafe(3), 3);
});
