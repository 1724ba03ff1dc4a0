/**
 * local/gateway/storage/context.ts: who the caller is (storage-api's JWT rules, with and without
 * allowInvalidJwt), the scope SQL runs in, and the JSON shapes of rows. No database: these parts never query.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { signJwt } from "../../../../../local/keys.ts";
import type { DiskStore } from "../../../../../local/gateway/storage/disk.ts";
import {
  bucketJson,
  createStorageContext,
  decodeKey,
  objectJson,
  type StorageContext,
} from "../../../../../local/gateway/storage/context.ts";
import { StorageApiError } from "../../../../../local/gateway/storage/errors.ts";

const SECRET = "a-test-secret-that-is-at-least-32-characters";

function context(): StorageContext {
  return createStorageContext({
    sql: null as unknown as postgres.Sql,
    disk: null as unknown as DiskStore,
    jwtSecret: SECRET,
    serviceRoleKey: "not.a.jwt",
    fileSizeLimit: () => 1024,
    log: () => {},
  });
}

const req = (headers: Record<string, string> = {}, url = "http://x/storage/v1/object/b/k") =>
  new Request(url, { headers });

async function storageError(p: Promise<unknown>): Promise<StorageApiError> {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof StorageApiError, String(err));
  return err;
}

Deno.test("callerFrom() reads role and sub from a valid token", async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt({ role: "authenticated", sub: "u-1", exp: now + 60 }, SECRET);
  const caller = await context().callerFrom(req({ authorization: `Bearer ${token}` }), false);
  assert.equal(caller.role, "authenticated");
  assert.equal(caller.sub, "u-1");
  assert.equal(caller.jwt, token);
  assert.equal(caller.authenticated, true);
});

Deno.test("callerFrom() without allowAnon: no header is 400 (schema), a foreign token is 403 AccessDenied", async () => {
  const ctx = context();
  const missing = await storageError(ctx.callerFrom(req(), false));
  assert.equal(missing.httpStatusCode, 400);
  const foreign = await signJwt({ role: "service_role" }, "another-secret-that-is-32-characters-long");
  const denied = await storageError(ctx.callerFrom(req({ authorization: `Bearer ${foreign}` }), false));
  assert.equal(denied.httpStatusCode, 403);
  assert.equal(denied.code, "AccessDenied");
});

Deno.test("callerFrom() with allowAnon: a missing or bad token is the anonymous caller", async () => {
  const ctx = context();
  for (const headers of [{}, { authorization: "Bearer nonsense" }] as Record<string, string>[]) {
    const caller = await ctx.callerFrom(req(headers), true);
    assert.deepEqual(caller, {
      role: "anon",
      claims: { role: "anon" },
      jwt: "",
      sub: null,
      authenticated: false,
    });
  }
});

Deno.test("scopeFor() carries the operation, method, headers and the path below /storage/v1", () => {
  const ctx = context();
  const scope = ctx.scopeFor(
    new Request("http://x/storage/v1/object/b/k.json?download", {
      method: "DELETE",
      headers: { "x-a": "1" },
    }),
    ctx.serviceCaller(),
    "storage.object.delete",
  );
  assert.equal(scope.path, "/object/b/k.json");
  assert.equal(scope.method, "DELETE");
  assert.equal(scope.operation, "storage.object.delete");
  assert.equal(scope.headers["x-a"], "1");
  assert.equal(scope.caller.role, "service_role");
});

Deno.test("decodeKey() decodes escapes; a malformed one is InvalidKey", () => {
  assert.equal(decodeKey("a%20b%2Fc"), "a b/c");
  assert.throws(() => decodeKey("%E0%A4%A"), (e) => e instanceof StorageApiError && e.code === "InvalidKey");
});

Deno.test("bucketJson() and objectJson() answer storage-api's shapes (ISO dates, numeric size limit)", () => {
  const at = new Date("2026-01-02T03:04:05.000Z");
  assert.deepEqual(
    bucketJson({
      id: "b",
      name: "b",
      owner: null,
      owner_id: "u",
      public: null,
      file_size_limit: "1024",
      allowed_mime_types: null,
      type: "STANDARD",
      created_at: at,
      updated_at: null,
    }),
    {
      id: "b",
      name: "b",
      owner: "u",
      public: false,
      type: "STANDARD",
      file_size_limit: 1024,
      allowed_mime_types: null,
      created_at: "2026-01-02T03:04:05.000Z",
      updated_at: null,
    },
  );
  const o = objectJson({
    id: "1",
    bucket_id: "b",
    name: "k",
    owner: null,
    owner_id: null,
    version: "v",
    metadata: null,
    user_metadata: null,
    created_at: at,
    updated_at: "2026-01-02T00:00:00Z",
    last_accessed_at: null,
  });
  assert.equal(o.created_at, "2026-01-02T03:04:05.000Z");
  assert.equal(o.updated_at, "2026-01-02T00:00:00Z");
  assert.equal(o.last_accessed_at, null);
});
