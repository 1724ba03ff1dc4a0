/** Reading requests safely: method checks, bounded JSON bodies, zod at the boundary. */
import { z } from "zod";
import { appError } from "../errors.ts";

/** 405 with an `Allow` header unless the request uses one of `allowed`. */
export function requireMethod(req: Request, ...allowed: string[]): void {
  if (!allowed.includes(req.method)) {
    throw appError("method_not_allowed", `Cannot ${req.method} this endpoint: use ${allowed.join(" or ")}`, {
      allow: allowed.join(", "),
    });
  }
}

/**
 * Reads a byte stream to its end, or stops (and cancels the stream) as soon as it passes `maxBytes`: the
 * one bounded reader behind every body this project accepts (functions, the local Storage emulation, the
 * Claude stand-in), so an oversized body never gets buffered whole. `null` means "over the limit".
 */
export async function readBytesUpTo(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return all;
}

/** Reads at most `maxBytes` of the body (413 beyond), so a huge body cannot exhaust the worker's memory. */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw appError(
      "payload_too_large",
      `Cannot accept a body of ${declared} bytes: the limit is ${maxBytes}`,
    );
  }
  const all = await readBytesUpTo(req.body, maxBytes);
  if (all === null) throw appError("payload_too_large", `Cannot accept a body over ${maxBytes} bytes`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw appError("invalid_body", "Cannot read the body: it is not valid UTF-8");
  }
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

function requireJsonType(req: Request): void {
  const type = req.headers.get("content-type") ?? "";
  if (type !== "" && !JSON_TYPE.test(type)) {
    throw appError(
      "unsupported_media_type",
      `Cannot read a ${type.split(";")[0]} body: send application/json`,
    );
  }
}

/** How `readJsonBody` treats a request without a body. */
export interface JsonBodyOptions {
  /**
   * True for endpoints that cron and pg_net call with `{}` or no body at all: an empty body (and any GET or
   * HEAD) reads as `{}` through the schema, so it means "all defaults". False (the default): 400.
   */
  readonly optional?: boolean;
}

/**
 * The one JSON body reader: at most `maxBytes` (413 beyond), a JSON content type or none (415 otherwise),
 * valid JSON (400), then the schema (a ZodError, which the HTTP mapper answers with a 400 naming the field).
 */
export async function readJsonBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  maxBytes = 64 * 1024,
  opts: JsonBodyOptions = {},
): Promise<z.infer<T>> {
  // A required body is refused on its declared type before a byte is read; an optional one may be empty
  // whatever its type (pg_net sends `{}` with its own headers), so its type is checked once it has content.
  if (!opts.optional) requireJsonType(req);
  const bodyless = opts.optional && (req.method === "GET" || req.method === "HEAD");
  const text = bodyless ? "" : await readBodyText(req, maxBytes);
  if (text.trim() === "") {
    if (opts.optional) return schema.parse({});
    throw appError("invalid_body", "Cannot read the request: the body is empty");
  }
  if (opts.optional) requireJsonType(req);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw appError(
      "invalid_body",
      `Cannot parse the body as JSON: ${err instanceof Error ? err.message : "syntax error"}`,
    );
  }
  return schema.parse(value);
}
