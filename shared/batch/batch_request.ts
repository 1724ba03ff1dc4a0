/**
 * What a client may send to `generate-batch`: `{"requests": [...]}`, each element exactly the body of
 * generate-conversation (shared/generate/request.ts, strict), plus the optional `Idempotency-Key` header for the
 * whole batch. Also the one builder of a request's Messages API `params`, shared by submit and re-queue, so a
 * batch request is the request generate-conversation would send, minus `stream`.
 *
 * used by: shared/batch/handle_generate_batch.ts, shared/batch/submit_batch.ts, shared/batch/collect_batches.ts
 */
import { z } from "zod";
import { canonicalRequest, GenerateRequestSchema } from "../generate/request.ts";

/** A batch body holds up to this many requests unless the setting lowers it (the API's own cap: 100,000). */
export const BATCH_MAX_REQUESTS_CEILING = 100_000;

/** Each request is a few hundred bytes; 512 bytes of room per request plus 16 KiB (413 beyond). */
export function batchBodyLimitBytes(maxRequests: number): number {
  return 16 * 1024 + maxRequests * 512;
}

/** The body schema for a given request cap: 1..max generate-conversation bodies. */
export function batchBodySchema(maxRequests: number) {
  return z.strictObject({
    requests: z.array(GenerateRequestSchema).min(1, "must hold at least one request").max(
      maxRequests,
      `must hold at most ${maxRequests} requests`,
    ),
  });
}

export type BatchBody = z.infer<ReturnType<typeof batchBodySchema>>;

/**
 * sha256 of the batch's canonical form (each request canonical as generate hashes it, in order), so the same
 * batch sent again with other key order, id casing or `null` for absent fields is the same batch.
 */
export async function batchRequestHash(body: BatchBody): Promise<string> {
  const text = `[${body.requests.map(canonicalRequest).join(",")}]`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What one request's prompt resolved to: everything the Messages API call needs. */
export interface PromptParts {
  model: string;
  maxTokens: number;
  system: string;
  prompt: string;
  /** Appended to the prompt when structured outputs are off. */
  plainJsonInstructions: string;
  /** JSON Schema for `output_config.format`, or null to ask by instructions only. */
  outputSchema: Record<string, unknown> | null;
  userId: string;
}

/**
 * The non-streaming Messages API params of one batch request, built as shared/adapters/anthropic_claude_client.ts
 * builds its streaming call: no sampling parameters, `metadata.user_id`, structured outputs when a schema is given
 * (else the plain-JSON instructions appended to the prompt).
 */
export function messageParams(p: PromptParts): Record<string, unknown> {
  const structured = p.outputSchema !== null;
  const params: Record<string, unknown> = {
    model: p.model,
    max_tokens: p.maxTokens,
    system: p.system,
    messages: [{
      role: "user",
      content: structured ? p.prompt : `${p.prompt}\n\n${p.plainJsonInstructions}`,
    }],
    metadata: { user_id: p.userId },
  };
  if (structured) params.output_config = { format: { type: "json_schema", schema: p.outputSchema } };
  return params;
}
