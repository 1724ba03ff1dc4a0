/**
 * DELETE /object/:bucket/*key: remove one. A missing object is "404" NoSuchKey; one that RLS does not let
 * the caller delete is "403".
 */
import { decodeKey, json, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { removeObjects } from "./_remove_objects.ts";

/** Removes one object as the caller. */
export async function deleteObject(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
): Promise<Response> {
  const name = decodeKey(rawKey);
  await ctx.callerFrom(req, false);
  await ctx.findObject(ctx.sql, bucketId, name);
  const [o] = await removeObjects(ctx, req, bucketId, [name], "storage.object.delete");
  if (!o) throw ERRORS.accessDenied("Access denied");
  return json({ message: "Successfully deleted" });
}
