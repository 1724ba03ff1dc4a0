/**
 * The object-store port: raw responses and final files, as the pipeline needs them. The domain owns this
 * contract; shared/adapters/supabase_object_store.ts implements it through the Storage API and translates
 * storage-js and HTTP failures at its edge into these result values (it never throws). Tests use an in-memory
 * fake.
 */

/** The private bucket that holds raw responses and final files (created by migration). */
export const CONVERSATION_BUCKET = "conversation-files";

export type UploadResult =
  | { ok: true }
  | { ok: false; kind: "exists" }
  | { ok: false; kind: "rejected"; status: string; message: string }
  | { ok: false; kind: "unavailable"; message: string };

export type DownloadResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; kind: "not_found" }
  | { ok: false; kind: "unavailable"; message: string };

export interface ObjectStore {
  /** Never throws: `exists` when `upsert` is false and the path is taken; `unavailable` is worth retrying. */
  upload(
    path: string,
    bytes: Uint8Array,
    opts: { upsert: boolean; contentType: string },
  ): Promise<UploadResult>;
  /** Never throws: `not_found` only when the object is really absent (a refused key is `unavailable`). */
  download(path: string): Promise<DownloadResult>;
  /** Deletes the objects; `removed` names the ones that existed (a missing path is not an error). */
  remove(paths: string[]): Promise<{ ok: true; removed: string[] } | { ok: false; message: string }>;
  /** A time-limited download link for a person (the review queue's raw and final files). */
  signedUrl(
    path: string,
    expiresInSeconds: number,
  ): Promise<{ ok: true; url: string } | { ok: false; message: string }>;
}
