/**
 * Removal shared by delete_object.ts and delete_objects.ts: the rows as the caller (RLS decides), then their bytes.
 */
import type { ObjectRow, StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { withScope } from "../../scope.ts";

/** Deletes the named objects the caller may delete (others are silently kept) and returns the deleted rows. */
export async function removeObjects(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  names: string[],
  operation = "storage.object.delete_many",
): Promise<ObjectRow[]> {
  const caller = await ctx.callerFrom(req, false);
  if (names.length === 0) return [];
  if (names.length > 1000) {
    throw ERRORS.invalidRequest("Bulk object requests are limited to 1000 objects per request.");
  }
  // RLS decides (SELECT + DELETE policies); objects the caller cannot see are silently not deleted.
  const deleted = await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, operation),
    (tx) =>
      tx<ObjectRow[]>`
      delete from storage.objects where bucket_id = ${bucketId} and name = any(${names})
      returning id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at,
                last_accessed_at`,
  );
  for (const o of deleted) if (o.version) await ctx.disk.remove(bucketId, o.name, o.version);
  if (deleted.length > 0) ctx.log({ event: "storage_remove", bucket: bucketId, count: deleted.length });
  return deleted;
}
