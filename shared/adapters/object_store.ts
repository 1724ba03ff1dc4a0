/**
 * Storage access for the functions, through the Storage API (never SQL on storage.objects: the API keeps
 * bytes and rows together and fires the triggers the pipeline relies on). One interface, so domain code can
 * be tested with an in-memory fake; `supabaseObjectStore` is the real implementation over supabase-js.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";

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
  upload(
    path: string,
    bytes: Uint8Array,
    opts: { upsert: boolean; contentType: string },
  ): Promise<UploadResult>;
  download(path: string): Promise<DownloadResult>;
  remove(paths: string[]): Promise<{ ok: true; removed: string[] } | { ok: false; message: string }>;
  signedUrl(
    path: string,
    expiresInSeconds: number,
  ): Promise<{ ok: true; url: string } | { ok: false; message: string }>;
}

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

/** Raw responses live at raw/{user_id}/{conversation_id}.json; built only from validated uuids. */
export function rawObjectPath(userId: string, conversationId: string): string {
  return `raw/${userId}/${conversationId}.json`;
}

/** Parsed conversations live at {user_id}/{conversation_id}/conversation.json. */
export function finalObjectPath(userId: string, conversationId: string): string {
  return `${userId}/${conversationId}/conversation.json`;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
