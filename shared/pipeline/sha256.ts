/**
 * The one sha256 of the pipeline: generate records it with the raw response, parse-conversation and the spool
 * flush verify the downloaded bytes against it. Lowercase hex, as PostgreSQL's `encode(sha256(…), 'hex')`.
 */
import { createHash } from "node:crypto";

/** Lowercase hex sha256 of the bytes (64 characters). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The same digest without yielding to the event loop (node:crypto): for generate's path from Claude's last byte
 * to the first durable store, where every await under load can cost milliseconds of in-memory time.
 */
export function sha256HexSync(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** An incremental sha256 (node:crypto): feed the bytes part by part, read the lowercase hex digest once at the end. */
export function sha256Hasher(): { update(bytes: Uint8Array): void; hex(): string } {
  const hash = createHash("sha256");
  return {
    update(bytes) {
      hash.update(bytes);
    },
    hex: () => hash.digest("hex"),
  };
}
