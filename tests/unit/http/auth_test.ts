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
  assert.deepEqual(decodeJwtClaims(fakeJwt({ sub: USER, role: "authenticated", aud: "authenticated" })), {
    sub: USER,
    role: "authenticated",
    aud: "authenticated",
  });
  assert.equal(decodeJwtClaims("not-a-jwt"), null);
  assert.equal(decodeJwtClaims("a.%%%.c"), null);
});

Deno.test("timingSafeEqual() compares whole strings", () => {
  assert.equal(timingSafeEqual("abc", "abc"), true);
  assert.equal(timingSafeEqual("abc", "abd"), false);
  assert.equal(timingSafeEqual("abc", "abcd"), false);
});

const FUTURE = 4_000_000_000;
/** A token that passes every clause; each case below breaks exactly one. */
const GOOD = { role: "authenticated", sub: USER, aud: "authenticated", exp: FUTURE };
const without = (key: keyof typeof GOOD) =>
  Object.fromEntries(Object.entries(GOOD).filter(([k]) => k !== key));
const bearer = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${fakeJwt(claims)}` });

/** The auth rule (docs/SECURITY.md), one case per clause: [name, headers, message fragment]. */
const callerCases: ReadonlyArray<[string, Record<string, string>, RegExp]> = [
  ["no header", {}, /missing authorization header/],
  ["a non-bearer header", { authorization: "Basic abc" }, /missing authorization header/],
  ["garbage token", { authorization: "Bearer nope" }, /not a valid JWT/],
  ["anon token", bearer({ role: "anon", exp: FUTURE }), /sign in as a user/],
  ["a token without role", bearer(without("role")), /sign in as a user/],
  ["user token without sub", bearer(without("sub")), /sub must be a uuid/],
  ["non-uuid sub", bearer({ ...GOOD, sub: "test-user" }), /sub must be a uuid/],
  ["a token without exp", bearer(without("exp")), /no expiry/],
  ["a non-numeric exp", bearer({ ...GOOD, exp: "4000000000" }), /not a valid JWT/],
  ["expired token", bearer({ ...GOOD, exp: 1 }), /expired/],
  ["a token without aud", bearer(without("aud")), /aud must be authenticated/],
  ["a token for another audience", bearer({ ...GOOD, aud: "other-project" }), /aud must be authenticated/],
  ["an aud array without ours", bearer({ ...GOOD, aud: ["a", "b"] }), /aud must be authenticated/],
  // The finding: any verified JWT saying service_role used to be the service, whatever its sub.
  [
    "a service_role JWT that is not a service key",
    bearer({ role: "service_role", exp: FUTURE }),
    /by its key only/,
  ],
  [
    "a service_role JWT with a user's sub",
    bearer({ role: "service_role", sub: USER, aud: "authenticated", exp: FUTURE }),
    /by its key only/,
  ],
];

for (const [name, headers, message] of callerCases) {
  Deno.test(`resolveCaller() refuses ${name} with 401 unauthorized`, () => {
    assert.throws(
      () => resolveCaller(req(headers), [SERVICE]),
      (e) => e instanceof AppError && e.code === "unauthorized" && message.test(e.message),
    );
  });
}

Deno.test("resolveCaller() returns the user for a token passing every clause, and the service for a key", () => {
  assert.deepEqual(resolveCaller(req(bearer(GOOD)), [SERVICE]), {
    kind: "user",
    userId: USER,
    role: "authenticated",
    reviewer: false,
  });
  assert.deepEqual(
    resolveCaller(req(bearer({ ...GOOD, aud: ["x", "authenticated"] })), [SERVICE]).kind,
    "user",
  );
  assert.deepEqual(resolveCaller(req({ authorization: `Bearer ${SERVICE}` }), [SERVICE]), {
    kind: "service",
  });
  // Any of the keys (the service_role JWT and the sb_secret_ key) is the service, compared whole.
  const secret = "sb_secret_abcdefghijklmnop";
  assert.equal(resolveCaller(req({ authorization: `Bearer ${secret}` }), [SERVICE, secret]).kind, "service");
  assert.throws(() => resolveCaller(req({ authorization: `Bearer ${secret}x` }), [SERVICE, secret]));
});

Deno.test("resolveCaller() checks exp against the clock it is given", () => {
  const token = req(bearer({ ...GOOD, exp: 1000 }));
  assert.equal(resolveCaller(token, [SERVICE], 999_000).kind, "user");
  assert.throws(() => resolveCaller(token, [SERVICE], 1_000_000), /expired/);
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
  // Key identity here too: a service_role JWT that is not one of the keys is not the service.
  assert.throws(
    () => requireServiceKey(req(bearer({ role: "service_role", exp: FUTURE })), [SERVICE]),
    (e) => e instanceof AppError && e.code === "forbidden",
  );
});
