/**
 * GET /object/info[/authenticated|/public]/:bucket/*key: the object's info (storage-js info()/exists()).
 */
import { decodeKey, iso, json, type ObjectRow, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { withScope } from "../../scope.ts";

/** The object's info as storage-api answers it, with its ETag as a header. */
export async function getObjectInfo(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
  publicRoute: boolean,
): Promise<Response> {
  const name = decodeKey(rawKey);
  const bucket = await ctx.findBucketAsSuperuser(bucketId);
  let obj: ObjectRow;
  if (publicRoute || bucket.public) {
    if (publicRoute && !bucket.public) throw ERRORS.noSuchBucket();
    obj = await ctx.findObject(ctx.sql, bucketId, name);
  } else {
    // As the plain GET: a missing or bad token is anonymous, and anonymous sees no private bucket.
    const caller = await ctx.callerFrom(req, true);
    if (!caller.authenticated) throw ERRORS.noSuchBucket();
    obj = await withScope(
      ctx.sql,
      ctx.scopeFor(req, caller, "storage.object.info"),
      (tx) => ctx.findObject(tx, bucketId, name),
    );
  }
  const md = obj.metadata ?? {};
  return json(
    {
      id: obj.id,
      name: obj.name,
      version: obj.version,
      bucket_id: obj.bucket_id,
      size: md.size ?? null,
      content_type: md.mimetype ?? null,
      cache_control: md.cacheControl ?? null,
      etag: md.eTag ?? null,
      metadata: obj.user_metadata,
      last_modified: iso(obj.updated_at),
      created_at: iso(obj.created_at),
    },
    200,
    typeof md.eTag === "string" ? { etag: md.eTag } : {},
  );
}
