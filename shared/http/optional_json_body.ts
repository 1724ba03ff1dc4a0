/**
 * For endpoints that cron and pg_net call with `{}` or no body at all: an empty body means "all defaults",
 * anything else must be JSON matching the schema (400/413/415 as `readJsonBody`).
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import { readBodyText } from "./request.ts";

export async function readOptionalJsonBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  maxBytes = 16 * 1024,
): Promise<z.infer<T>> {
  const type = req.headers.get("content-type") ?? "";
  const text = req.method === "GET" || req.method === "HEAD" ? "" : await readBodyText(req, maxBytes);
  if (text.trim() === "") return schema.parse({});
  if (type !== "" && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw appError(
      "unsupported_media_type",
      `Cannot read a ${type.split(";")[0]} body: send application/json`,
    );
  }
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
