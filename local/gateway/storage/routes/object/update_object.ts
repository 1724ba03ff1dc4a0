/**
 * PUT /object/:bucket/*key: update, always an upsert (storage-api's `storage.object.upload_update`).
 */
import type { StorageContext } from "../../context.ts";
import { uploadObject } from "./_upload_object.ts";

/** Replaces (or creates) the object. */
export function updateObject(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
): Promise<Response> {
  return uploadObject(ctx, req, bucketId, rawKey, true);
}
