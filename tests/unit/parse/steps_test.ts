import assert from "node:assert/strict";
import {
  directStep,
  extractStep,
  JSON_STEPS,
  repairStep,
  type StepContext,
} from "../../../shared/parse/steps.ts";

const ctx: StepContext = { positionOf: (i) => i };

Deno.test("JSON_STEPS run direct, extract, repair, each reporting its own method", () => {
  assert.deepEqual(JSON_STEPS.map((s) => [s.name, s.method]), [
    ["direct", "direct"],
    ["extract", "extracted"],
    ["repair", "jsonrepair"],
  ]);
});

Deno.test("directStep reads valid JSON with no fixes, and passes anything else on unchanged", () => {
  assert.deepEqual(directStep.run('{"a": 1}', ctx), {
    kind: "value",
    value: { a: 1 },
    unclosed: false,
    fixes: [],
  });
  for (const text of ['{"a":', "prose", '"{\\"a\\": 1}"']) {
    const out = directStep.run(text, ctx);
    assert.equal(out.kind, "next", text);
    assert.equal(out.kind === "next" && out.text, text, "the next step gets the same text");
  }
});

Deno.test("directStep and extractStep refuse valid JSON that repeats a property name (invalid_json)", () => {
  for (const step of [directStep, extractStep]) {
    const out = step.run('{"content": "He said ", "content": "y"}', ctx);
    assert.equal(out.kind, "error", step.name);
    assert.equal(out.kind === "error" && out.error.code, "invalid_json");
  }
});

Deno.test("extractStep reports every fix it made and answers no_json when there is none", () => {
  const out = extractStep.run('Here it is:\n```json\n{"a": 1}\n```', ctx);
  assert.equal(out.kind, "value");
  assert.deepEqual(out.fixes.map((f) => f.code).sort(), ["strip_fence", "strip_prose_before"]);
  const none = extractStep.run("nothing to see", ctx);
  assert.equal(none.kind === "error" && none.error.code, "no_json");
});

Deno.test("extractStep hands a damaged candidate to the next step instead of failing", () => {
  const out = extractStep.run('{"a": 1,}', ctx);
  assert.equal(out.kind, "next");
  assert.equal(out.kind === "next" && out.text, '{"a": 1,}');
});

Deno.test("repairStep escapes inner quotes and says so; an unclosed text is marked unclosed", () => {
  const quoted = repairStep.run('{"a": "He said "hi" to me"}', ctx);
  assert.deepEqual(quoted.kind === "value" && quoted.value, { a: 'He said "hi" to me' });
  assert.ok(quoted.fixes.some((f) => f.code === "escape_inner_quote"));
  const cut = repairStep.run('{"a": [1, 2', ctx);
  assert.equal(cut.kind === "value" && cut.unclosed, true);
  assert.ok(cut.fixes.some((f) => f.code === "close_unfinished"), "closing is never silent");
});
