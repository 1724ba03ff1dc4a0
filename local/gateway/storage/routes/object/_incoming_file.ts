/**
 * The file of an upload (create_object.ts, update_object.ts): multipart form or raw body, with storage-api's
 * size and MIME type checks.
 */
import type { BucketRow, StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { isAllowedMimeType } from "../../limits.ts";
import { readBytesUpTo } from "../../../../../shared/http/request.ts";

/** An upload's bytes and the metadata storage-api keeps with them. */
export interface IncomingFile {
  /** Null for a raw body: it is read after the permission probe, as storage-api streams it then. */
  bytes: Uint8Array | null;
  mimeType: string;
  cacheControl: string;
  userMetadata: Record<string, unknown> | null;
}

/** The raw body, refused with 413 EntityTooLarge as soon as it passes `max` bytes (the rest is not read). */
export async function readLimited(req: Request, max: number): Promise<Uint8Array> {
  // An empty body is a 0-byte object (storage-api stores it and answers 200).
  const bytes = await readBytesUpTo(req.body, max);
  if (bytes === null) throw ERRORS.entityTooLarge();
  return bytes;
}

/** `x-metadata` (base64 JSON) as storage-api reads it: unreadable metadata is ignored, not an error. */
export function parseUserMetadata(header: string | null): Record<string, unknown> | null {
  if (!header) return null;
  try {
    const parsed = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(atob(header), (c) => c.charCodeAt(0))),
    );
    return parsed && typeof parsed === "object" ? parsed as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** The smaller of the global cap (config.toml) and the bucket's own `file_size_limit`. */
export function maxUploadSize(ctx: StorageContext, bucket: BucketRow): number {
  return Math.min(
    ctx.fileSizeLimit(),
    bucket.file_size_limit === null ? Infinity : Number(bucket.file_size_limit),
  );
}

/**
 * The file of a multipart form (its `contentType`, `cacheControl`, `metadata` fields) or of a raw body (read
 * later, after the permission probe), with the MIME type and size checked against the bucket.
 */
export async function incomingFile(
  ctx: StorageContext,
  req: Request,
  bucket: BucketRow,
): Promise<IncomingFile> {
  const maxSize = maxUploadSize(ctx, bucket);
  const allowed = bucket.allowed_mime_types ?? [];
  const contentType = req.headers.get("content-type") ?? "";
  if (contentType.startsWith("multipart/form-data")) {
    const declared = Number(req.headers.get("content-length") ?? "NaN");
    // The form's size includes boundaries; the file itself is checked after parsing.
    if (Number.isFinite(declared) && declared > maxSize + 64 * 1024) throw ERRORS.entityTooLarge();
    let form: FormData;
    try {
      form = await req.formData();
    } catch {
      throw ERRORS.noContent();
    }
    let file: File | null = null;
    for (const [, v] of form.entries()) {
      if (typeof v !== "string") {
        file = v;
        break;
      }
    }
    if (!file) throw ERRORS.noContent();
    const mimeType = (form.get("contentType") as string | null) || file.type || "application/octet-stream";
    if (allowed.length > 0 && !isAllowedMimeType(mimeType, allowed)) throw ERRORS.invalidMimeType(mimeType);
    if (file.size > maxSize) throw ERRORS.entityTooLarge();
    const cacheTime = form.get("cacheControl");
    const md = form.get("metadata");
    let userMetadata: Record<string, unknown> | null = null;
    if (typeof md === "string") {
      try {
        userMetadata = JSON.parse(md);
      } catch { /* storage-api ignores unreadable metadata */ }
    }
    return {
      bytes: new Uint8Array(await file.arrayBuffer()),
      mimeType,
      cacheControl: typeof cacheTime === "string" && cacheTime !== "" ? `max-age=${cacheTime}` : "no-cache",
      userMetadata,
    };
  }
  const mimeType = contentType || "application/octet-stream";
  if (allowed.length > 0 && !isAllowedMimeType(mimeType, allowed)) throw ERRORS.invalidMimeType(mimeType);
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxSize) throw ERRORS.entityTooLarge();
  return {
    bytes: null,
    mimeType,
    cacheControl: req.headers.get("cache-control") ?? "no-cache",
    userMetadata: parseUserMetadata(req.headers.get("x-metadata")),
  };
}
