/**
 * The one view builder (shared/generate/view.ts): a row and a worker's own facts give the same shape — fields
 * that are null or false left out, warnings only when there are some.
 */
import assert from "node:assert/strict";
import { conversationView } from "../../../shared/generate/view.ts";

const ID = "00000000-0000-4000-8000-000000000001";

Deno.test("conversationView() copies the facts a parsed row has and leaves out the null and false ones", () => {
  const view = conversationView({
    conversation_id: ID,
    processing_status: "completed",
    raw_response_path: `raw/u/${ID}.json`,
    parse_method_used: "direct",
    turn_count: 8,
    truncated: false,
    requires_manual_review: false,
    parse_error_message: null,
    generation_error: null,
  });
  assert.deepEqual(view, {
    conversation_id: ID,
    processing_status: "completed",
    raw_response_path: `raw/u/${ID}.json`,
    parse_method_used: "direct",
    turn_count: 8,
  });
});

Deno.test("conversationView() keeps a turn count of 0 and every flag that is set", () => {
  const view = conversationView({
    conversation_id: ID,
    processing_status: "parse_failed",
    raw_response_path: null,
    turn_count: 0,
    truncated: true,
    requires_manual_review: true,
    parse_error_message: "no JSON object",
    generation_error: "",
  });
  assert.equal(view.turn_count, 0);
  assert.equal(view.truncated, true);
  assert.equal(view.requires_manual_review, true);
  assert.equal(view.parse_error_message, "no JSON object");
  assert.equal(view.generation_error, "");
  assert.equal(view.raw_response_path, null, "a missing path is said, not left out");
});

Deno.test("conversationView() adds warnings only when there are some, as a copy", () => {
  const source = { conversation_id: ID, processing_status: "raw_spooled", raw_response_path: null };
  assert.equal("warnings" in conversationView(source), false);
  assert.equal("warnings" in conversationView(source, []), false);
  const warnings = ["Storage is unavailable"];
  const view = conversationView(source, warnings);
  assert.deepEqual(view.warnings, warnings);
  warnings.push("later");
  assert.equal(view.warnings?.length, 1, "a later push to the caller's list does not change the view");
});
