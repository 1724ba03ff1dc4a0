import assert from "node:assert/strict";
import {
  countProperties,
  countPropertyNames,
  repeatsPropertyName,
} from "../../../shared/parse/_property_count.ts";

Deno.test("countPropertyNames() counts the strings followed by a colon, not strings that look like names", () => {
  const cases: { json: string; names: number }[] = [
    { json: "{}", names: 0 },
    { json: '{"a": 1, "b": {"c": [1, {"d": null}]}}', names: 4 },
    { json: '{"a": "x\\": 1, \\"y"}', names: 1 }, // an escaped quote and a colon inside a value
    { json: '{"a": "\\\\", "b": "c"}', names: 2 }, // an escaped backslash ends right before the quote
    { json: '["a", "b", {"c" : "d"}]', names: 1 },
    { json: '{"a\\"b": 1}', names: 1 },
    { json: '{\n  "a"\n  :\n  1\n}', names: 1 },
  ];
  for (const { json, names } of cases) {
    JSON.parse(json); // only valid JSON is counted
    assert.equal(countPropertyNames(json), names, json);
  }
});

Deno.test("countProperties() counts the properties of every object, without recursion", () => {
  assert.equal(countProperties({ a: 1, b: { c: [1, { d: null }] } }), 4);
  assert.equal(countProperties([1, "a", null]), 0);
  let deep: unknown = { leaf: true };
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(countProperties(deep), 1);
});

Deno.test("repeatsPropertyName() finds a name that JSON.parse collapsed", () => {
  const repeated = '{"role": "user", "content": "He said \\"x", "content": "y"}';
  assert.equal(repeatsPropertyName(repeated, JSON.parse(repeated)), true);
  const distinct = '{"role": "user", "content": "He said \\"x\\", \\"content\\": \\"y"}';
  assert.equal(repeatsPropertyName(distinct, JSON.parse(distinct)), false);
  const nested = '{"a": {"k": 1}, "b": {"k": 2}}'; // the same name in two objects is fine
  assert.equal(repeatsPropertyName(nested, JSON.parse(nested)), false);
});
