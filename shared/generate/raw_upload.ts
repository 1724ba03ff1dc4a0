/**
 * The write-once upload of raw/{user_id}/{conversation_id}.json, with retries and a timeout per attempt. Never
 * an overwrite: a 409 means an earlier attempt that timed out on our side may have landed, so the stored object
 * is downloaded and compared — identical bytes are success, different bytes a refusal (the caller spools).
 *
 * used by: shared/generate/persist_raw.ts
 */
import { logger } from "../log.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { sha256Hex } from "../pipeline/sha256.ts";

export interface RawUploadDeps {
  store: ObjectStore;
  clock: Clock;
  config: { uploadRetries: number; uploadTimeoutMs: number };
}

/** `alreadyStored`: a 409 whose object holds these very bytes. On failure, the last error, for the spool row. */
export type RawUpload =
  | { ok: true; attempts: number; alreadyStored: boolean }
  | { ok: false; attempts: number; message: string };

/**
 * Uploads the bytes once, retrying what may pass later (a timeout, a 5xx) with backoff 200, 400, 800 … ms
 * (at most 2 s) up to `uploadRetries` times; a 4xx-class refusal (size, mime type, permissions) ends at once.
 */
export async function uploadRaw(
  deps: RawUploadDeps,
  path: string,
  bytes: Uint8Array,
  sha256: string,
  conversationId: string,
): Promise<RawUpload> {
  const { store, clock, config } = deps;
  const attemptsAllowed = config.uploadRetries + 1;
  let lastError = "no attempt made";
  for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
    const result = await withTimeout(
      store.upload(path, bytes, { upsert: false, contentType: "application/json" }),
      config.uploadTimeoutMs,
      () => ({ ok: false as const, kind: "unavailable" as const, message: "the upload timed out" }),
    );
    if (result.ok) return { ok: true, attempts: attempt, alreadyStored: false };
    if (result.kind === "exists") {
      const existing = await store.download(path);
      if (existing.ok) {
        if (await sha256Hex(existing.bytes) === sha256) {
          return { ok: true, attempts: attempt, alreadyStored: true };
        }
        return { ok: false, attempts: attempt, message: `a different object already exists at ${path}` };
      }
      lastError = existing.kind === "not_found"
        ? "the object was reported as existing but could not be found"
        : `the existing object could not be read: ${existing.message}`;
    } else if (result.kind === "rejected") {
      // 4xx-class refusals (size, mime type, permissions) will not change on retry.
      return {
        ok: false,
        attempts: attempt,
        message: `Storage refused the upload (${result.status}): ${result.message}`,
      };
    } else {
      lastError = result.message;
    }
    if (attempt < attemptsAllowed) {
      const wait = Math.min(2000, 200 * 2 ** (attempt - 1));
      logger.warn("raw_upload_retry", {
        conversation_id: conversationId,
        attempt,
        wait_ms: wait,
        error: lastError,
      });
      await clock.sleep(wait);
    }
  }
  return { ok: false, attempts: attemptsAllowed, message: lastError };
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
