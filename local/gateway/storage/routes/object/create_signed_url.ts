/**
 * POST /object/sign/:bucket/*key {expiresIn}: {signedURL: "/object/sign/<bucket>/<key>?token=…"} for an
 * object the caller can see.
 */
import { decodeKey, json, type StorageContext } from "../../context.ts";
import { withScope } from "../../scope.ts";
import { readExpiresIn, signOne } from "./_sign.ts";

/** Signs one object the caller can read (404 NoSuchKey otherwise). */
export async function createSignedUrl(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
  const name = decodeKey(rawKey);
  const body = await req.json().catch(() => null) as Record<string, unknown> | null;
  const expiresIn = readExpiresIn(body);
  await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, "storage.object.sign"),
    (tx) => ctx.findObject(tx, bucketId, name),
  );
  return json({ signedURL: await signOne(ctx, bucketId, name, expiresIn) });
}
