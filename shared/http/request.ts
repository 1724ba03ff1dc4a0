/** Reading requests safely: method checks, bounded JSON bodies, zod at the boundary. */
import { z } from "zod";
import { appError } from "../errors.ts";

export function requireMethod(req: Request, ...allowed: string[]): void {
  if (!allowed.includes(req.method)) {
    throw appError("method_not_allowed", `Cannot ${req.method} this endpoint: use ${allowed.join(" or ")}`, {
      allow: allowed.join(", "),
    });
  }
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
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw appError("payload_too_large", `Cannot accept a body over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw appError("invalid_body", "Cannot read the body: it is not valid UTF-8");
  }
}

/** Parses a JSON body against a schema: 415 for a non-JSON content type, 400 for bad JSON or fields. */
export async function readJsonBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  maxBytes = 64 * 1024,
): Promise<z.infer<T>> {
  const type = req.headers.get("content-type") ?? "";
  if (type !== "" && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw appError(
      "unsupported_media_type",
      `Cannot read a ${type.split(";")[0]} body: send application/json`,
    );
  }
  const text = await readBodyText(req, maxBytes);
  let value: unknown;
  try {
    value = text.trim() === "" ? undefined : JSON.parse(text);
  } catch (err) {
    throw appError(
      "invalid_body",
      `Cannot parse the body as JSON: ${err instanceof Error ? err.message : "syntax error"}`,
    );
  }
  if (value === undefined) throw appError("invalid_body", "Cannot read the request: the body is empty");
  return schema.parse(value);
}
