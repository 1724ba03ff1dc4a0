/**
 * Storage access for the functions, through the Storage API (never SQL on storage.objects: the API keeps
 * bytes and rows together and fires the triggers the pipeline relies on). One interface, so domain code can
 * be tested with an in-memory fake; `supabaseObjectStore` is the real implementation over supabase-js.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { CONVERSATION_BUCKET, type ObjectStore } from "../pipeline/object_store.ts";

/** storage-js reports HTTP 400 with the intended code as a string `statusCode` (see supabase-platform.md §2). */
function storageStatus(err: unknown): string {
  const e = err as { statusCode?: unknown; status?: unknown };
  if (typeof e?.statusCode === "string") return e.statusCode;
  if (typeof e?.status === "number") return String(e.status);
  return "unknown";
}

/**
 * The real Storage server (1.11.2) reads an object GET with a wrong, expired or missing key as anonymous, and
 * anonymous sees no private bucket: the answer is statusCode "404" `NoSuchBucket`, not `NoSuchKey`. The bucket
 * exists by migration, so for this adapter that answer means the key was refused: an auth failure to retry and
 * report, never a missing object (which would send generate's duplicate-upload check and the parser down the
 * "gone" path).
 */
function isRefusedKey(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "NoSuchBucket" || code === "InvalidJWT" || code === "AccessDenied";
}

function isUnavailable(status: string, err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return status === "unknown" || status.startsWith("5") || name === "StorageUnknownError";
}

/**
 * The `ObjectStore` port over the Storage API (supabase-js). Never throws: storage-js errors, HTTP statuses and
 * network failures become `UploadResult` / `DownloadResult` values; a refused service key is `unavailable`, never
 * `not_found`.
 */
export function supabaseObjectStore(
  supabaseUrl: string,
  serviceKey: string,
  bucket = CONVERSATION_BUCKET,
  client?: SupabaseClient,
): ObjectStore {
  const sb = client ?? createClient(supabaseUrl, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const files = () => sb.storage.from(bucket);
  return {
    async upload(path, bytes, opts) {
      try {
        const { error } = await files().upload(path, bytes, {
          upsert: opts.upsert,
          contentType: opts.contentType,
        });
        if (!error) return { ok: true };
        const status = storageStatus(error);
        if (status === "409") return { ok: false, kind: "exists" };
        if (isUnavailable(status, error)) return { ok: false, kind: "unavailable", message: error.message };
        return { ok: false, kind: "rejected", status, message: error.message };
      } catch (err) {
        return { ok: false, kind: "unavailable", message: err instanceof Error ? err.message : String(err) };
      }
    },
    async download(path) {
      try {
        const { data, error } = await files().download(path);
        if (error) {
          const status = storageStatus(error);
          if (isRefusedKey(error)) {
            return {
              ok: false,
              kind: "unavailable",
              message: `Storage refused the service key (${status} ${
                String((error as { code?: unknown }).code)
              }: ${error.message}): check SUPABASE_SERVICE_ROLE_KEY`,
            };
          }
          if (status === "404") return { ok: false, kind: "not_found" };
          return { ok: false, kind: "unavailable", message: error.message };
        }
        return { ok: true, bytes: new Uint8Array(await data.arrayBuffer()) };
      } catch (err) {
        return { ok: false, kind: "unavailable", message: err instanceof Error ? err.message : String(err) };
      }
    },
    async remove(paths) {
      try {
        const { data, error } = await files().remove(paths);
        if (error) return { ok: false, message: error.message };
        return { ok: true, removed: (data ?? []).map((o) => o.name) };
      } catch (err) {
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    },
    async signedUrl(path, expiresInSeconds) {
      try {
        const { data, error } = await files().createSignedUrl(path, expiresInSeconds);
        if (error || !data) return { ok: false, message: error?.message ?? "no signed URL returned" };
        return { ok: true, url: data.signedUrl };
      } catch (err) {
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
