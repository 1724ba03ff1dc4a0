import assert from "node:assert/strict";
import {
  anonKey,
  decodeJwtPayload,
  LOCAL_JWT_SECRET,
  serviceRoleKey,
  signJwt,
  userToken,
  verifyJwt,
} from "../../../local/keys.ts";

// The keys `supabase start` prints (docs and countless snippets embed them): ours must be byte-identical.
const CLI_ANON_KEY =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
const CLI_SERVICE_KEY =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

Deno.test("anonKey() and serviceRoleKey() equal the Supabase CLI's local demo keys", async () => {
  assert.equal(await anonKey(), CLI_ANON_KEY);
  assert.equal(await serviceRoleKey(), CLI_SERVICE_KEY);
});

Deno.test("verifyJwt() accepts a token signed with the secret and returns its payload", async () => {
  const token = await signJwt({ sub: "u1", role: "authenticated", exp: 2_000_000_000 });
  const result = await verifyJwt(token, LOCAL_JWT_SECRET, 1_900_000_000_000);
  assert.deepEqual(result, { ok: true, payload: { sub: "u1", role: "authenticated", exp: 2_000_000_000 } });
});

const rejections: ReadonlyArray<[string, () => Promise<string>, string]> = [
  [
    "a wrong signature",
    () => signJwt({ exp: 2_000_000_000 }, "another-secret-of-at-least-32-characters!"),
    "signature",
  ],
  ["an expired token", () => signJwt({ exp: 1_000 }), "expired"],
  ["a token not valid yet", () => signJwt({ nbf: 2_100_000_000 }), "not_yet_valid"],
  ["a malformed token", () => Promise.resolve("abc.def"), "malformed"],
  ["garbage segments", () => Promise.resolve("!!.??.**"), "malformed"],
  [
    "alg none",
    () =>
      Promise.resolve(
        `${btoa('{"alg":"none","typ":"JWT"}').replace(/=+$/, "")}.${
          btoa('{"role":"service_role"}').replace(/=+$/, "")
        }.`,
      ),
    "algorithm",
  ],
];

for (const [what, make, reason] of rejections) {
  Deno.test(`verifyJwt() rejects ${what} (${reason})`, async () => {
    const result = await verifyJwt(await make(), LOCAL_JWT_SECRET, 1_900_000_000_000);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.reason, reason);
  });
}

Deno.test("userToken() mints a GoTrue-shaped access token with the requested expiry and role", async () => {
  const token = await userToken("8d0f6a1e-2f7c-4a63-9a59-0a3b7f1c2d4e", {
    expiresIn: 60,
    nowMs: 1_800_000_000_000,
  });
  const p = decodeJwtPayload(token);
  assert.equal(p?.sub, "8d0f6a1e-2f7c-4a63-9a59-0a3b7f1c2d4e");
  assert.equal(p?.role, "authenticated");
  assert.equal(p?.aud, "authenticated");
  assert.equal(p?.exp, 1_800_000_060);
  assert.equal((await verifyJwt(token, LOCAL_JWT_SECRET, 1_800_000_030_000)).ok, true);
  assert.equal((await verifyJwt(token, LOCAL_JWT_SECRET, 1_800_000_061_000)).ok, false);
});
