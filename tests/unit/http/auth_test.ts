import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import {
  decodeJwtClaims,
  requireServiceKey,
  resolveCaller,
  timingSafeEqual,
} from "../../../shared/http/auth.ts";

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.sig`;
}
function req(headers: Record<string, string>): Request {
  return new Request("http://x/functions/v1/f", { headers });
}
const USER = "0b6f2c7e-4f0e-4a53-9a39-1a1d5b2f7c10";
const SERVICE = "service-key-for-tests-000000";

Deno.test("decodeJwtClaims() reads sub and role, and rejects non-JWTs", () => {
  assert.deepEqual(decodeJwtClaims(fakeJwt({ sub: USER, role: "authenticated" })), {
    sub: USER,
    role: "authenticated",
  });
  assert.equal(decodeJwtClaims("not-a-jwt"), null);
  assert.equal(decodeJwtClaims("a.%%%.c"), null);
});

Deno.test("timingSafeEqual() compares whole strings", () => {
  assert.equal(timingSafeEqual("abc", "abc"), true);
  assert.equal(timingSafeEqual("abc", "abd"), false);
  assert.equal(timingSafeEqual("abc", "abcd"), false);
});

const callerCases: ReadonlyArray<[string, Record<string, string>, string]> = [
  ["no header", {}, "unauthorized"],
  ["a non-bearer header", { authorization: "Basic abc" }, "unauthorized"],
  ["garbage token", { authorization: "Bearer nope" }, "unauthorized"],
  ["anon token", { authorization: `Bearer ${fakeJwt({ role: "anon" })}` }, "unauthorized"],
  [
    "user token without sub",
    { authorization: `Bearer ${fakeJwt({ role: "authenticated" })}` },
    "unauthorized",
  ],
  [
    "non-uuid sub",
    { authorization: `Bearer ${fakeJwt({ role: "authenticated", sub: "test-user" })}` },
    "unauthorized",
  ],
  [
    "expired token",
    { authorization: `Bearer ${fakeJwt({ role: "authenticated", sub: USER, exp: 1 })}` },
    "unauthorized",
  ],
];

for (const [name, headers, code] of callerCases) {
  Deno.test(`resolveCaller() refuses ${name} with ${code}`, () => {
    assert.throws(
      () => resolveCaller(req(headers), [SERVICE]),
      (e) => e instanceof AppError && e.code === code,
    );
  });
}

Deno.test("resolveCaller() returns the user for an authenticated token and service for the service key", () => {
  const token = fakeJwt({ role: "authenticated", sub: USER, exp: Math.floor(Date.now() / 1000) + 60 });
  assert.deepEqual(resolveCaller(req({ authorization: `Bearer ${token}` }), [SERVICE]), {
    kind: "user",
    userId: USER,
    role: "authenticated",
  });
  assert.deepEqual(resolveCaller(req({ authorization: `Bearer ${SERVICE}` }), [SERVICE]), {
    kind: "service",
  });
});

Deno.test("requireServiceKey() accepts the key in Authorization or apikey, 401 without, 403 with another", () => {
  requireServiceKey(req({ authorization: `Bearer ${SERVICE}` }), [SERVICE]);
  requireServiceKey(req({ apikey: SERVICE }), [SERVICE]);
  assert.throws(
    () => requireServiceKey(req({}), [SERVICE]),
    (e) => e instanceof AppError && e.code === "unauthorized",
  );
  assert.throws(
    () =>
      requireServiceKey(req({ authorization: `Bearer ${fakeJwt({ role: "authenticated", sub: USER })}` }), [
        SERVICE,
      ]),
    (e) => e instanceof AppError && e.code === "forbidden",
  );
});
