/**
 * `/storage/v1`: the subset of the Storage API that @supabase/storage-js uses, with storage-api's behaviour
 * (routes in supabase/storage src/http/routes/{bucket,object}/*.ts; the differences that remain
 * are listed in docs/LOCAL_STACK.md):
 *
 *   GET    /bucket                          list buckets (as the caller: RLS on storage.buckets)
 *   GET    /bucket/:id                      one bucket
 *   POST   /bucket                          create {id, name, public, file_size_limit, allowed_mime_types}
 *   POST   /object/:bucket/*key             upload (x-upsert: true → upsert)        → {Id, Key}
 *   PUT    /object/:bucket/*key             update (always an upsert)                → {Id, Key}
 *   GET    /object[/authenticated]/:bucket/*key   download; HEAD likewise (headers only)
 *   GET    /object/public/:bucket/*key      download from a public bucket, no JWT needed
 *   GET    /object/info[/authenticated]/:bucket/*key   object info (storage-js info()/exists())
 *   POST   /object/list/:bucket             list {prefix, limit, offset, sortBy, search}
 *   DELETE /object/:bucket                  remove {prefixes: [...]}   → the deleted rows
 *   DELETE /object/:bucket/*key             remove one
 *   POST   /object/sign/:bucket/*key        {expiresIn} → {signedURL: "/object/sign/<bucket>/<key>?token=…"}
 *   POST   /object/sign/:bucket             {expiresIn, paths} → [{error, path, signedURL}]
 *   GET    /object/sign/:bucket/*key?token= download through a signed URL
 *
 * Each route is a file, routes/<resource>/<operation>.ts, as in storage-api's src/http/routes; what they share
 * (deps, the caller, the SQL scope, row lookups and JSON shapes) is context.ts, the accepted names and sizes
 * limits.ts. This file only routes and maps errors.
 */
import { createStorageContext, decodeKey, type StorageContext, type StorageDeps } from "./context.ts";
import { ERRORS, fromPgError, StorageApiError } from "./errors.ts";
import { createBucket } from "./routes/bucket/create_bucket.ts";
import { getBucket } from "./routes/bucket/get_bucket.ts";
import { listBuckets } from "./routes/bucket/list_buckets.ts";
import { createObject } from "./routes/object/create_object.ts";
import { createSignedUrl } from "./routes/object/create_signed_url.ts";
import { createSignedUrls } from "./routes/object/create_signed_urls.ts";
import { deleteObject } from "./routes/object/delete_object.ts";
import { deleteObjects } from "./routes/object/delete_objects.ts";
import { getObject } from "./routes/object/get_object.ts";
import { getObjectInfo } from "./routes/object/get_object_info.ts";
import { getSignedObject } from "./routes/object/get_signed_object.ts";
import { listObjects } from "./routes/object/list_objects.ts";
import { updateObject } from "./routes/object/update_object.ts";

export type { StorageDeps };

/** The route table: storage-api's paths and methods to routes/<resource>/<operation>.ts. */
function route(ctx: StorageContext, req: Request, rest: string): Promise<Response> {
  const m = req.method;
  const seg = rest.split("/");
  const tail = (n: number) => seg.slice(n).join("/");
  if (seg[0] === "bucket") {
    if (seg.length === 1 || (seg.length === 2 && seg[1] === "")) {
      if (m === "GET") return listBuckets(ctx, req);
      if (m === "POST") return createBucket(ctx, req);
    } else if (seg.length === 2 && m === "GET") {
      return getBucket(ctx, req, decodeKey(seg[1]));
    }
  }
  if (seg[0] === "object" && seg.length >= 2) {
    const kind = seg[1];
    if (kind === "list" && seg.length === 3 && m === "POST") return listObjects(ctx, req, decodeKey(seg[2]));
    if (kind === "sign" && seg.length === 3 && m === "POST") {
      return createSignedUrls(ctx, req, decodeKey(seg[2]));
    }
    if (kind === "sign" && seg.length >= 4) {
      if (m === "POST") return createSignedUrl(ctx, req, decodeKey(seg[2]), tail(3));
      if (m === "GET" || m === "HEAD") {
        return getSignedObject(ctx, req, decodeKey(seg[2]), tail(3), m === "HEAD");
      }
    }
    if (kind === "info" && seg.length >= 4) {
      if (seg[2] === "public" && seg.length >= 5 && m === "GET") {
        return getObjectInfo(ctx, req, decodeKey(seg[3]), tail(4), true);
      }
      if (seg[2] === "authenticated" && seg.length >= 5 && m === "GET") {
        return getObjectInfo(ctx, req, decodeKey(seg[3]), tail(4), false);
      }
      if (m === "GET") return getObjectInfo(ctx, req, decodeKey(seg[2]), tail(3), false);
    }
    if (
      (kind === "public" || kind === "authenticated") && seg.length >= 4 && (m === "GET" || m === "HEAD")
    ) {
      return getObject(ctx, req, decodeKey(seg[2]), tail(3), {
        head: m === "HEAD",
        publicRoute: kind === "public",
        authenticatedRoute: kind === "authenticated",
      });
    }
    const bucketId = decodeKey(kind);
    if (seg.length === 2 && m === "DELETE") return deleteObjects(ctx, req, bucketId);
    if (seg.length >= 3) {
      const key = tail(2);
      if (m === "POST") return createObject(ctx, req, bucketId, key);
      if (m === "PUT") return updateObject(ctx, req, bucketId, key);
      if (m === "GET" || m === "HEAD") {
        return getObject(ctx, req, bucketId, key, {
          head: m === "HEAD",
          publicRoute: false,
          authenticatedRoute: false,
        });
      }
      if (m === "DELETE") return deleteObject(ctx, req, bucketId, key);
    }
  }
  throw ERRORS.routeNotFound(m, `/${rest}`);
}

/**
 * The `/storage/v1` handler (`rest` is the path after it). Every failure is storage-api's error body: a
 * StorageApiError as it is, a PostgreSQL error through its SQLSTATE translation (errors.ts), anything else
 * 500 with the stack in the log only.
 */
export function createStorageApi(deps: StorageDeps): (req: Request, rest: string) => Promise<Response> {
  const ctx = createStorageContext(deps);
  return async (req, rest) => {
    try {
      return await route(ctx, req, rest);
    } catch (err) {
      if (err instanceof StorageApiError) return err.render();
      const pg = fromPgError(err);
      if (pg) {
        if (pg.httpStatusCode === 500) ctx.log({ event: "storage_db_error", error: String(err) });
        return pg.render();
      }
      ctx.log({
        event: "storage_internal_error",
        error: err instanceof Error ? err.stack ?? err.message : String(err),
      });
      return ERRORS.internal().render();
    }
  };
}
