/**
 * POST /object/sign/:bucket {expiresIn, paths}: [{error, path, signedURL}], an error entry for each path the
 * caller cannot see.
 */
import { json, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { withScope } from "../../scope.ts";
import { readExpiresIn, signOne } from "./_sign.ts";

/** Signs each visible path, in the order given. */
export async function createSignedUrls(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
  const body = await req.json().catch(() => null) as Record<string, unknown> | null;
  const expiresIn = readExpiresIn(body);
  if (!Array.isArray(body?.paths)) throw ERRORS.schema("body", "paths");
  const paths = body.paths.filter((p): p is string => typeof p === "string");
  const visible = await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, "storage.object.sign_many"),
    (tx) =>
      tx<{ name: string }[]>`
      select name from storage.objects where bucket_id = ${bucketId} and name = any(${paths})`,
  );
  const seen = new Set(visible.map((v) => v.name));
  const out = [];
  for (const p of paths) {
    out.push(
      seen.has(p) ? { error: null, path: p, signedURL: await signOne(ctx, bucketId, p, expiresIn) } : {
        error: "Either the object does not exist or you do not have access to it",
        path: p,
        signedURL: null,
      },
    );
  }
  return json(out);
}
