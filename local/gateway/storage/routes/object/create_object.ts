/**
 * POST /object/:bucket/*key: upload; `x-upsert: true` overwrites, otherwise an existing object is 409.
 */
import type { StorageContext } from "../../context.ts";
import { uploadObject } from "./_upload_object.ts";

/** Uploads a new object (or overwrites it with `x-upsert: true`): storage-api's `storage.object.upload`. */
export function createObject(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
): Promise<Response> {
  return uploadObject(ctx, req, bucketId, rawKey, req.headers.get("x-upsert") === "true");
}
