import assert from "node:assert/strict";
import { z } from "zod";
import { appError } from "../../../shared/errors.ts";
import { describeZodError, errorResponse, json } from "../../../shared/http/respond.ts";
import { type LogSink, setLogSink } from "../../../shared/log.ts";

Deno.test("json() sets the charset content type over any caller header and keeps the others", async () => {
  const res = json({ a: 1 }, 201, { "content-type": "text/plain", "x-request-id": "r1" });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(res.headers.get("x-request-id"), "r1");
  assert.deepEqual(await res.json(), { a: 1 });
});

Deno.test("an AppError keeps its code and status; details join the error object; Allow and Retry-After", async () => {
  const limited = errorResponse(appError("rate_limited", "Too many", { retry_after_seconds: 12 }));
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "12");
  assert.deepEqual(await limited.json(), {
    error: { code: "rate_limited", message: "Too many", retry_after_seconds: 12 },
  });
  const method = errorResponse(appError("method_not_allowed", "No", { allow: "GET, POST" }));
  assert.equal(method.status, 405);
  assert.equal(method.headers.get("allow"), "GET, POST");
  await method.body?.cancel();
});

Deno.test("a ZodError is 400 invalid_body naming each path; more than 10 issues are cut at 10", async () => {
  const schema = z.object({ turns: z.array(z.object({ role: z.enum(["user", "assistant"]) })) });
  const parsed = schema.safeParse({ turns: [{ role: "bot" }] });
  assert.equal(parsed.success, false);
  const res = errorResponse(parsed.error);
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, "invalid_body");
  assert.match(body.error.message, /^turns\.0\.role: /);
  const many = z.array(z.number()).safeParse(Array.from({ length: 15 }, () => "x"));
  assert.equal(describeZodError(many.error!).split("; ").length, 10);
  assert.match(describeZodError(z.number().safeParse("x").error!), /^\(body\): /);
});

Deno.test("anything else is 500 internal with no stack to the client; the details go to the log", async () => {
  const lines: unknown[] = [];
  const sink: LogSink = (line) => lines.push(line);
  const previous = setLogSink(sink);
  try {
    const res = errorResponse(new Error("secret detail at /srv/x.ts:1"), { conversation_id: "c1" });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /secret detail|x\.ts/);
    assert.deepEqual(JSON.parse(text), {
      error: { code: "internal", message: "Cannot complete the request: internal error" },
    });
    assert.match(JSON.stringify(lines), /unhandled_error.*c1.*secret detail/s);
  } finally {
    setLogSink(previous);
  }
});
