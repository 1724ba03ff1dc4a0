/**
 * DELETE /object/:bucket {prefixes: [...]}: remove many; answers the deleted rows.
 */
import { json, objectJson, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { removeObjects } from "./_remove_objects.ts";

/** Removes the listed objects (strings, or {path} as some clients send) the caller may delete. */
export async function deleteObjects(ctx: StorageContext, req: Request, bucketId: string): Promise<Response> {
  const body = await req.json().catch(() => null) as Record<string, unknown> | null;
  if (!body || !Array.isArray(body.prefixes)) throw ERRORS.schema("body", "prefixes");
  const names = body.prefixes.map((p) => typeof p === "string" ? p : (p as { path?: unknown })?.path)
    .filter((p): p is string => typeof p === "string");
  return json((await removeObjects(ctx, req, bucketId, names)).map(objectJson));
}
