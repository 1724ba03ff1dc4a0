/**
 * What GET …/{id} answers: the item, its parse error split into code and message, the attempts log, the partial
 * result, and a short-lived signed link to the raw response (signed on demand, never stored: upstream's stored
 * URLs expired).
 *
 * called by: shared/review/handler.ts; next: ObjectStore.signedUrl (shared/pipeline/object_store.ts).
 */
import { logger } from "../log.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import type { ItemBundle } from "./repo.ts";

export interface ItemDetailDeps {
  readonly store: ObjectStore;
  readonly signedUrlSeconds: number;
}

/** `<code>: <message>` is how the parse flow writes `parse_error_message`; the attempts log has both parts. */
export function parseErrorOf(bundle: ItemBundle): { code: string | null; message: string } | null {
  const { item, attempts } = bundle;
  if (item.processing_status === "completed") return null;
  const last = attempts[attempts.length - 1];
  if (last && last.outcome !== "parsed" && last.error_message !== null) {
    return { code: last.error_code, message: last.error_message };
  }
  if (item.parse_error_message === null) return null;
  const m = /^([a-z][a-z0-9_]*): (.*)$/s.exec(item.parse_error_message);
  return m ? { code: m[1], message: m[2] } : { code: null, message: item.parse_error_message };
}

/** The detail view of one item; a link that cannot be signed is reported as unavailable, never an error. */
export async function itemDetail(deps: ItemDetailDeps, bundle: ItemBundle, now: Date) {
  const { item } = bundle;
  let raw: Record<string, unknown>;
  if (item.raw_response_path === null) {
    raw = { available: false, reason: "not_stored", path: null };
  } else if (item.raw_deleted_at !== null) {
    raw = { available: false, reason: "deleted_by_retention", path: item.raw_response_path };
  } else {
    // Signed on demand for this response only: URLs are never stored (upstream's stored URLs expired).
    const signed = await deps.store.signedUrl(item.raw_response_path, deps.signedUrlSeconds);
    raw = signed.ok
      ? {
        available: true,
        path: item.raw_response_path,
        size: item.raw_response_size,
        sha256: item.raw_sha256,
        signed_url: signed.url,
        expires_in: deps.signedUrlSeconds,
        expires_at: new Date(now.getTime() + deps.signedUrlSeconds * 1000).toISOString(),
      }
      : { available: false, reason: "signing_failed", path: item.raw_response_path };
    if (!signed.ok) {
      logger.warn("review_sign_failed", { conversation_id: item.conversation_id, error: signed.message });
    }
  }
  return {
    item,
    parse_error: parseErrorOf(bundle),
    attempts: bundle.attempts,
    partial_result: bundle.partial,
    raw,
  };
}
