/**
 * The export's Storage side (shared/export/pages.ts `ExportSource.download/downloadMany`) over the Storage API:
 * one page of final files is signed in ONE request (`POST /object/sign/{bucket}` with `paths`, storage-js
 * `createSignedUrls`), then the signed URLs are fetched with bounded concurrency. A signed GET skips what the
 * authenticated GET costs per object (the JWT check, the bucket lookup, the scoped transaction), which is what
 * limited the export's rate. Single objects (retries, `--verify` fallbacks) go through the ordinary download.
 *
 * Failures are translated here and never thrown: a path the sign request lists with an error, or a signed GET
 * answering NoSuchKey, is `not_found` (the service role sees every object, so "does not exist or you do not
 * have access" means gone); a refused key, a 5xx or a network failure is `unavailable`.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { ObjectStore } from "../pipeline/object_store.ts";
import type { DownloadAnswer, ExportSource } from "../export/pages.ts";
import { mapLimit } from "../parse_flow/_map_limit.ts";
import { supabaseObjectStore } from "./supabase_object_store.ts";

/** Seconds a page's signed URLs stay valid: long enough for a slow page, short enough to be worthless later. */
export const SIGNED_URL_SECONDS = 600;

/** A signed GET's failure → not_found (storage-api: HTTP 400 or 404 with statusCode "404") or unavailable. */
async function failedGet(res: Response): Promise<DownloadAnswer> {
  const text = await res.text().catch(() => "");
  let body: { statusCode?: unknown; error?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy's page; reported as unavailable below
  }
  if (
    (res.status === 400 || res.status === 404) &&
    (String(body.statusCode) === "404" || body.error === "not_found" || body.error === "NoSuchKey")
  ) {
    return { ok: false, kind: "not_found" };
  }
  return {
    ok: false,
    kind: "unavailable",
    message: `signed download answered ${res.status}: ${String(body.message ?? text).slice(0, 200)}`,
  };
}

async function signedGet(url: string): Promise<DownloadAnswer> {
  try {
    const res = await fetch(url);
    if (!res.ok) return await failedGet(res);
    return { ok: true, bytes: new Uint8Array(await res.arrayBuffer()) };
  } catch (err) {
    return { ok: false, kind: "unavailable", message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * `download` (one object, the ordinary authenticated GET) and `downloadMany` (a page: signed in bulk, fetched
 * `concurrency` at a time), with one supabase-js client per bucket.
 */
export function supabaseExportFiles(
  supabaseUrl: string,
  serviceKey: string,
  client?: SupabaseClient,
): Pick<ExportSource, "download" | "downloadMany"> {
  const sb = client ?? createClient(supabaseUrl, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const stores = new Map<string, ObjectStore>();
  const store = (bucket: string) => {
    let s = stores.get(bucket);
    if (!s) {
      s = supabaseObjectStore(supabaseUrl, serviceKey, bucket, sb);
      stores.set(bucket, s);
    }
    return s;
  };
  return {
    download: (bucket, path) => store(bucket).download(path),
    async downloadMany(bucket, paths, concurrency) {
      let signed: { path: string | null; signedUrl: string | null; error: string | null }[];
      try {
        const { data, error } = await sb.storage.from(bucket).createSignedUrls(paths, SIGNED_URL_SECONDS);
        if (error || !data) {
          const message = `Storage could not sign ${paths.length} path(s): ${
            error?.message ?? "unexpected answer"
          }`;
          return paths.map(() => ({ ok: false, kind: "unavailable", message }) as DownloadAnswer);
        }
        signed = data;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return paths.map(() => ({ ok: false, kind: "unavailable", message }) as DownloadAnswer);
      }
      // Matched by path, not by position: a path listed with an error (or not at all) is not there.
      const urls = new Map(signed.map((s) => [s.path, s.signedUrl]));
      return mapLimit(paths, concurrency, (p) => {
        const url = urls.get(p) ?? null;
        if (url === null) return Promise.resolve({ ok: false, kind: "not_found" } as DownloadAnswer);
        return signedGet(url);
      });
    },
  };
}
