/**
 * GET /bucket/:id: one bucket, read as the caller (a bucket RLS hides is 404 NoSuchBucket, as one that is not there).
 */
import { bucketJson, type BucketRow, json, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { withScope } from "../../scope.ts";

/** One bucket as the caller. */
export async function getBucket(ctx: StorageContext, req: Request, id: string): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
  const [b] = await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, "storage.bucket.get"),
    (tx) =>
      tx<BucketRow[]>`
      select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type, created_at, updated_at
        from storage.buckets where id = ${id}`,
  );
  if (!b) throw ERRORS.noSuchBucket();
  return json(bucketJson(b));
}
