import assert from "node:assert/strict";
import { isRecord } from "../../../shared/parse/_is_record.ts";

Deno.test("isRecord() accepts plain objects only: not null, arrays or primitives", () => {
  const cases: [unknown, boolean][] = [
    [{}, true],
    [{ a: 1 }, true],
    [Object.create(null), true],
    [null, false],
    [undefined, false],
    [[], false],
    [[{ a: 1 }], false],
    ["{}", false],
    [0, false],
    [true, false],
  ];
  for (const [value, expected] of cases) assert.equal(isRecord(value), expected, JSON.stringify(value));
});
