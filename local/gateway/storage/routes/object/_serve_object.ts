/**
 * The download answer every GET/HEAD route shares (get_object.ts, get_signed_object.ts): storage-api's headers
 * from the row's metadata, `?download` as content-disposition, 304 on a matching If-None-Match, then the bytes.
 */
import type { ObjectRow, StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";

/** The object's bytes (or only its headers); bytes missing on disk are logged and answered 404 NoSuchKey. */
export async function serveObject(
  ctx: StorageContext,
  req: Request,
  obj: ObjectRow,
  opts: { head: boolean; download: string | null; expires?: string },
): Promise<Response> {
  const md = obj.metadata ?? {};
  const headers: Record<string, string> = {
    "content-type": typeof md.mimetype === "string" ? md.mimetype : "application/octet-stream",
    "cache-control": typeof md.cacheControl === "string" ? md.cacheControl : "no-cache",
  };
  if (typeof md.eTag === "string") headers.etag = md.eTag;
  if (typeof md.size === "number") headers["content-length"] = String(md.size);
  const lm = typeof md.lastModified === "string" ? new Date(md.lastModified) : null;
  if (lm && !Number.isNaN(lm.getTime())) headers["last-modified"] = lm.toUTCString();
  if (opts.expires) headers.expires = opts.expires;
  if (opts.download !== null) {
    const filename = opts.download !== "" ? opts.download : obj.name.split("/").pop() ?? obj.name;
    headers["content-disposition"] = `attachment; filename=${encodeURIComponent(filename)};`;
  }
  if (headers.etag && req.headers.get("if-none-match") === headers.etag) {
    return new Response(null, { status: 304, headers });
  }
  if (opts.head) return new Response(null, { status: 200, headers });
  const f = obj.version ? await ctx.disk.open(obj.bucket_id, obj.name, obj.version) : null;
  if (!f) {
    ctx.log({ event: "storage_bytes_missing", bucket: obj.bucket_id, name: obj.name, version: obj.version });
    throw ERRORS.noSuchKey();
  }
  return new Response(f.readable, { status: 200, headers });
}
