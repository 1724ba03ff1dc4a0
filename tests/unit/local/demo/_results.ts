/** ItemResult fixtures for the report and progress tests. */
import type { DemoItem } from "../../../../local/demo/plan.ts";
import type { ConversationState, HttpAnswer, ItemResult } from "../../../../local/demo/report.ts";

export function item(n: number): DemoItem {
  return {
    n,
    body: { persona_id: "p", emotional_arc_id: "a", training_topic_id: "t", tier: "template" },
    label: "p / a / t",
    idempotencyKey: `demo-test-${n}`,
  };
}

export function id(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

export function answer(n: number, over: Partial<HttpAnswer> = {}): HttpAnswer {
  return {
    status: 201,
    conversationId: id(n),
    processingStatus: "completed",
    errorCode: null,
    message: null,
    ms: 420,
    ...over,
  };
}

export function row(n: number, over: Partial<ConversationState> = {}): ConversationState {
  return {
    conversation_id: id(n),
    processing_status: "completed",
    parse_method_used: "direct",
    requires_manual_review: false,
    turn_count: 8,
    parse_error_message: null,
    generation_error: null,
    cost_usd: null,
    seconds: 0.35,
    ...over,
  };
}

export function completed(n: number, method = "direct"): ItemResult {
  return { item: item(n), answer: answer(n), row: row(n, { parse_method_used: method }) };
}

export function inReview(n: number): ItemResult {
  return {
    item: item(n),
    answer: answer(n, { processingStatus: "parse_failed" }),
    row: row(n, {
      processing_status: "parse_failed",
      parse_method_used: null,
      requires_manual_review: true,
      turn_count: null,
      parse_error_message: "truncated_output: Cannot accept conversation: output stopped at max_tokens",
    }),
  };
}
