/**
 * GET|HEAD /object[/authenticated|/public]/:bucket/*key: download. The plain route takes a bad token as
 * anonymous, `authenticated` requires one, `public` needs none but a public bucket (storage-api's getObject
 * and getPublicObject, one function here since they differ only in who may read).
 */
import { decodeKey, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { withScope } from "../../scope.ts";
import { serveObject } from "./_serve_object.ts";

/** Downloads the object through one of the three routes (`mode`). */
export async function getObject(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
  mode: { head: boolean; publicRoute: boolean; authenticatedRoute: boolean },
): Promise<Response> {
  const name = decodeKey(rawKey);
  const url = new URL(req.url);
  const download = url.searchParams.has("download") ? url.searchParams.get("download") ?? "" : null;
  if (mode.publicRoute) {
    const bucket = await ctx.findBucketAsSuperuser(bucketId).catch(() => null);
    if (!bucket || !bucket.public) throw ERRORS.noSuchBucket();
    const obj = await ctx.findObject(ctx.sql, bucketId, name);
    return serveObject(ctx, req, obj, { head: mode.head, download });
  }
  // The plain route takes a missing, bad or expired token as anonymous (storage-api's allowInvalidJwt): a
  // private bucket then answers "404" NoSuchBucket, which is what a wrong service key reads as there.
  const caller = await ctx.callerFrom(req, !mode.authenticatedRoute);
  const bucket = await ctx.findBucketAsSuperuser(bucketId);
  if (!caller.authenticated && !bucket.public) throw ERRORS.noSuchBucket();
  const obj = await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, "storage.object.get_authenticated"),
    (tx) => ctx.findObject(tx, bucketId, name),
  );
  return serveObject(ctx, req, obj, { head: mode.head, download });
}
