/**
 * GET /bucket: the buckets the caller may see (RLS on storage.buckets decides), ordered by name.
 */
import { bucketJson, type BucketRow, json, type StorageContext } from "../../context.ts";
import { withScope } from "../../scope.ts";

/** Lists the buckets as the caller. */
export async function listBuckets(ctx: StorageContext, req: Request): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
  const rows = await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, "storage.bucket.list"),
    (tx) =>
      tx<BucketRow[]>`
      select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type, created_at, updated_at
        from storage.buckets order by name`,
  );
  return json(rows.map(bucketJson));
}
