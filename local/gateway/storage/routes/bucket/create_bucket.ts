/**
 * POST /bucket: create {id, name, public, file_size_limit, allowed_mime_types} as the caller (RLS decides;
 * the id defaults to the name), answering {name}.
 */
import { json, type StorageContext, UUID } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { isValidBucketName, parseSize } from "../../limits.ts";
import { withScope } from "../../scope.ts";

/** Creates a bucket as the caller; the owner columns come from the caller's `sub`. */
export async function createBucket(ctx: StorageContext, req: Request): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
  const body = await req.json().catch(() => null) as Record<string, unknown> | null;
  if (!body || typeof body.name !== "string") throw ERRORS.schema("body", "name");
  const id = typeof body.id === "string" && body.id !== "" ? body.id : body.name;
  if (!isValidBucketName(id)) throw ERRORS.invalidBucketName();
  let sizeLimit: number | null = null;
  if (body.file_size_limit !== undefined && body.file_size_limit !== null) {
    sizeLimit = typeof body.file_size_limit === "number" || typeof body.file_size_limit === "string"
      ? parseSize(body.file_size_limit)
      : null;
    if (sizeLimit === null) throw ERRORS.invalidRequest("Invalid file size format");
  }
  const mimes = Array.isArray(body.allowed_mime_types)
    ? body.allowed_mime_types.filter((m): m is string => typeof m === "string")
    : null;
  const owner = caller.sub && UUID.test(caller.sub) ? caller.sub : null;
  await withScope(ctx.sql, ctx.scopeFor(req, caller, "storage.bucket.create"), (tx) =>
    tx`
      insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
      values (${id}, ${id}, ${owner}, ${caller.sub}, ${body.public === true}, ${sizeLimit},
              ${mimes === null || mimes.length === 0 ? null : mimes})`);
  return json({ name: id });
}
