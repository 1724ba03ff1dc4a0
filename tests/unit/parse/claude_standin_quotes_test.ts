/**
 * The local Claude stand-in's `unescaped_quotes` behaviour (local/claude_standin/render.ts), 200 seeds through the
 * parser. It writes every inner quote of the conversation unescaped, as a model writing JSON by hand does,
 * including `"When people say "max it out", they mean…"`, which parser 2026.11.1 failed (27 % of 6-turn
 * responses, 80 % of 24-turn ones). All of them are resolvable by the JSON grammar, so all must parse, with every
 * string exactly as the stand-in meant it.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { hashSeed } from "../../../local/claude_standin/behavior.ts";
import { buildConversation, DEFAULT_SCAFFOLDING } from "../../../local/claude_standin/conversation.ts";
import { renderReply } from "../../../local/claude_standin/render.ts";
import { parseStoredResponse } from "../../../shared/parse/mod.ts";
import { textResponse } from "../../fixtures/parse/samples.ts";

const SEEDS = 200;
const TURN_COUNTS = [6, 2, 4, 8, 12, 24];
const request = { maxTokens: 32_000, hasOutputFormat: false, toolName: null, retryAfterSec: 1 };

/**
 * What the stand-in meant, read from its text without the parser: its output is pretty-printed, one member per
 * line, and only `content` strings carry quotes, so escaping every quote inside a content line restores it.
 */
function intended(text: string): unknown {
  const lines = text.split("\n").map((line) => {
    const match = /^(\s*"content": ")(.*)(",?)$/.exec(line);
    return match === null ? line : match[1] + match[2].replaceAll('"', '\\"') + match[3];
  });
  return JSON.parse(lines.join("\n"));
}

Deno.test("parseStoredResponse() parses every stand-in unescaped_quotes response exactly (200 seeds)", () => {
  const problems: string[] = [];
  let commaQuotes = 0;
  for (let k = 0; k < SEEDS; k++) {
    const seed = hashSeed(`unescaped_quotes-${k}`);
    const turnCount = TURN_COUNTS[k % TURN_COUNTS.length];
    const reply = renderReply(
      "unescaped_quotes",
      buildConversation({ ...DEFAULT_SCAFFOLDING, turnCount }, seed),
      request,
      seed,
    );
    assert.equal(reply.kind, "message");
    if (reply.kind !== "message" || reply.content[0]?.type !== "text") continue;
    const text = reply.content[0].text;
    if (text.includes('", they')) commaQuotes++;
    const result = parseStoredResponse(textResponse(text, { stopReason: reply.stopReason }));
    if (result.outcome !== "parsed") {
      problems.push(`seed ${k} (${turnCount} turns): ${result.outcome} ${result.error?.message}`);
    } else if (!isDeepStrictEqual(result.conversation, intended(text))) {
      problems.push(`seed ${k} (${turnCount} turns): parsed, but a string differs from the stand-in's`);
    } else if (
      result.method !== "jsonrepair" || !result.fixes.some((fix) => fix.code === "escape_inner_quote")
    ) {
      problems.push(`seed ${k}: method ${result.method}, fixes ${result.fixes.map((fix) => fix.code)}`);
    }
  }
  assert.deepEqual(problems, []);
  // The hard case must actually be in the sample, or this test proves nothing about it.
  assert.ok(commaQuotes >= SEEDS / 4, `only ${commaQuotes} responses had a quote before ", they"`);
});
