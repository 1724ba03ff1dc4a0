/**
 * GET|HEAD /object/sign/:bucket/*key?token=: download through a signed URL (no Authorization needed; the
 * token must be ours, scoped for download, for this very object, and unexpired).
 */
import { decodeKey, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { verifyJwt } from "../../../../keys.ts";
import { serveObject } from "./_serve_object.ts";

/** Serves the object a valid signed token names, with `Expires` set to the token's expiry. */
export async function getSignedObject(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
  head: boolean,
): Promise<Response> {
  const name = decodeKey(rawKey);
  const url = new URL(req.url);
  const token = url.searchParams.get("token");
  if (!token) throw ERRORS.schema("querystring", "token");
  const verified = await verifyJwt(token, ctx.jwtSecret);
  if (!verified.ok) throw ERRORS.invalidJwt(verified.message);
  if (verified.payload.scope !== "download") {
    throw ERRORS.invalidSignature("Token is not scoped for download");
  }
  if (verified.payload.url !== `${bucketId}/${name}`) throw ERRORS.invalidSignature();
  const exp = Number(verified.payload.exp);
  const obj = await ctx.findObject(ctx.sql, bucketId, name);
  const download = url.searchParams.has("download") ? url.searchParams.get("download") ?? "" : null;
  return serveObject(ctx, req, obj, { head, download, expires: new Date(exp * 1000).toUTCString() });
}
