/**
 * The gateway's Storage API against @supabase/storage-js, checked for the behaviours real Supabase has
 * (docs/LOCAL_STACK.md): HTTP 400 with a string statusCode, RLS deciding as the caller,
 * the committed write made as service_role (a trigger sees INSERT, then UPDATE on upsert, with auth.uid() null,
 * the caller's request.headers and owner_id = the uploader).
 *
 * Each test creates the bucket `stack-conformance` with policies keyed on the first folder = auth.uid(), and
 * drops everything again afterwards; users and object names are random, so tests do not depend on each other.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { signJwt } from "../../../local/keys.ts";
import { stateDir } from "../../../local/paths.ts";
import { createTestUser, serviceClient, sql, stackEnv, stackTest, userClient } from "../../support/stack.ts";

const BUCKET = "stack-conformance";

async function setUp(): Promise<void> {
  await sql().begin(async (tx) => {
    await tx.unsafe(`
      insert into storage.buckets (id, name, public) values ('${BUCKET}', '${BUCKET}', false)
        on conflict (id) do nothing;
      create schema if not exists stack_test;
      create table if not exists stack_test.object_events (
        seq bigserial primary key, op text, name text, uid uuid, role text, owner_id text, marker text,
        version text
      );
      create or replace function stack_test.record_object_event() returns trigger language plpgsql as $$
      begin
        -- Only the committed write (as service_role) fails: the probe passes, the bytes get written first.
        if new.name like '%reject-me%' and current_user = 'service_role' then
          raise exception 'stack_test: rejecting % on purpose', new.name;
        end if;
        insert into stack_test.object_events (op, name, uid, role, owner_id, marker, version)
        values (tg_op, new.name, auth.uid(), current_user, new.owner_id,
                current_setting('request.headers', true)::json ->> 'x-conformance', new.version);
        return new;
      end $$;
      drop trigger if exists stack_conformance_events on storage.objects;
      create trigger stack_conformance_events after insert or update on storage.objects
        for each row when (new.bucket_id = '${BUCKET}') execute function stack_test.record_object_event();
      grant usage on schema stack_test to anon, authenticated, service_role;
      grant insert on stack_test.object_events to anon, authenticated, service_role;
      grant usage on sequence stack_test.object_events_seq_seq to anon, authenticated, service_role;
    `);
    for (const op of ["select", "insert", "update", "delete"] as const) {
      const clause = op === "insert" ? "with check" : "using";
      await tx.unsafe(`drop policy if exists "stack conformance ${op}" on storage.objects`);
      await tx.unsafe(`
        create policy "stack conformance ${op}" on storage.objects for ${op} to authenticated
        ${clause} (bucket_id = '${BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text)`);
    }
  });
}

async function tearDown(): Promise<void> {
  await sql().begin(async (tx) => {
    await tx.unsafe(`
      drop trigger if exists stack_conformance_events on storage.objects;
      drop policy if exists "stack conformance select" on storage.objects;
      drop policy if exists "stack conformance insert" on storage.objects;
      drop policy if exists "stack conformance update" on storage.objects;
      drop policy if exists "stack conformance delete" on storage.objects;
      select set_config('storage.allow_delete_query', 'true', true);
      delete from storage.objects where bucket_id = '${BUCKET}';
      delete from storage.buckets where id = '${BUCKET}';
    `);
  });
}

function conformanceTest(name: string, fn: () => Promise<void>): void {
  stackTest(name, async () => {
    await setUp();
    try {
      await fn();
    } finally {
      await tearDown();
    }
  });
}

function versionFiles(name: string, bucket = BUCKET): string[] {
  const dir = join(stateDir(), "storage", bucket, name);
  return existsSync(dir) ? readdirSync(dir) : [];
}

const enc = (s: string) => new TextEncoder().encode(s);

conformanceTest(
  "storage upload, then download returns the same bytes with the stored content type",
  async () => {
    const user = await createTestUser();
    const path = `${user.id}/${crypto.randomUUID()}.json`;
    const files = userClient(user.token).storage.from(BUCKET);
    const up = await files.upload(path, enc('{"hello":"world"}'), { contentType: "application/json" });
    assert.equal(up.error, null);
    assert.equal(up.data?.path, path);
    assert.equal(up.data?.fullPath, `${BUCKET}/${path}`);
    const down = await files.download(path);
    assert.equal(down.error, null);
    assert.equal(await down.data?.text(), '{"hello":"world"}');
    assert.equal(down.data?.type, "application/json");
    const [row] = await sql()<
      { owner_id: string; metadata: { size: number; mimetype: string; eTag: string } }[]
    >`
    select owner_id, metadata from storage.objects where bucket_id = ${BUCKET} and name = ${path}`;
    assert.equal(row.owner_id, user.id);
    assert.equal(row.metadata.size, 17);
    assert.equal(row.metadata.mimetype, "application/json");
    assert.match(row.metadata.eTag, /^"[0-9a-f]{32}"$/);
  },
);

conformanceTest(
  "storage upload of an existing path without upsert fails with statusCode '409' (HTTP 400)",
  async () => {
    const user = await createTestUser();
    const path = `${user.id}/dup.json`;
    const files = userClient(user.token).storage.from(BUCKET);
    assert.equal((await files.upload(path, enc("1"), { contentType: "application/json" })).error, null);
    const again = await files.upload(path, enc("2"), { contentType: "application/json" });
    const err = again.error as unknown as { statusCode: string; status: number; message: string };
    assert.equal(err.statusCode, "409");
    assert.equal(err.status, 400);
    assert.equal(err.message, "The resource already exists");
    assert.equal(await (await files.download(path)).data?.text(), "1", "the first upload is kept");
  },
);

conformanceTest(
  "storage trigger sees INSERT then UPDATE on upsert, as service_role, with the caller's headers",
  async () => {
    const user = await createTestUser();
    const path = `${user.id}/${crypto.randomUUID()}.json`;
    const marker = crypto.randomUUID();
    const files = userClient(user.token).storage.from(BUCKET);
    const opts = { contentType: "application/json", headers: { "x-conformance": marker } };
    assert.equal((await files.upload(path, enc("v1"), opts)).error, null);
    assert.equal((await files.upload(path, enc("v2"), { ...opts, upsert: true })).error, null);
    const events = await sql()<
      { op: string; uid: string | null; role: string; owner_id: string; marker: string }[]
    >`
    select op, uid, role, owner_id, marker from stack_test.object_events where name = ${path} order by seq`;
    // The rolled-back permission probes leave no trace: exactly the two committed writes.
    assert.deepEqual(events.map((e) => e.op), ["INSERT", "UPDATE"]);
    for (const e of events) {
      assert.equal(e.uid, null, "auth.uid() is null in the committed write (service key has no sub)");
      assert.equal(e.role, "service_role");
      assert.equal(e.owner_id, user.id);
      assert.equal(e.marker, marker, "request.headers are the caller's");
    }
    assert.equal(await (await files.download(path)).data?.text(), "v2");
    assert.equal(versionFiles(path).length, 1, "the overwritten version's bytes are removed");
  },
);

conformanceTest("storage RLS: a user cannot write, read or list another user's folder", async () => {
  const owner = await createTestUser();
  const other = await createTestUser();
  const path = `${owner.id}/private.json`;
  assert.equal(
    (await userClient(owner.token).storage.from(BUCKET).upload(path, enc("secret"), {
      contentType: "application/json",
    }))
      .error,
    null,
  );
  const theirs = userClient(other.token).storage.from(BUCKET);
  const write = await theirs.upload(`${owner.id}/intruder.json`, enc("x"), {
    contentType: "application/json",
  });
  const werr = write.error as unknown as { statusCode: string; status: number; message: string };
  assert.equal(werr.statusCode, "403");
  assert.equal(werr.status, 400);
  assert.equal(werr.message, "new row violates row-level security policy");
  const read = await theirs.download(path);
  assert.equal((read.error as unknown as { statusCode: string }).statusCode, "404");
  const list = await theirs.list(owner.id);
  assert.deepEqual(list.data, []);
  const removed = await theirs.remove([path]);
  assert.deepEqual(removed.data, [], "objects the caller cannot see are silently not deleted");
  const [{ n }] = await sql()<{ n: number }[]>`
    select count(*)::int as n from storage.objects where bucket_id = ${BUCKET} and name like ${
    owner.id + "/%"
  }`;
  assert.equal(n, 1);
  const events = await sql()<{ n: number }[]>`
    select count(*)::int as n from stack_test.object_events where name like ${owner.id + "/intruder%"}`;
  assert.equal(events[0].n, 0, "a denied upload fires no trigger");
});

conformanceTest("storage list returns folders then files under a prefix, with metadata", async () => {
  const user = await createTestUser();
  const files = userClient(user.token).storage.from(BUCKET);
  for (const p of ["b.json", "a.json", "sub/c.json"]) {
    assert.equal(
      (await files.upload(`${user.id}/${p}`, enc(p), { contentType: "application/json" })).error,
      null,
    );
  }
  const { data, error } = await files.list(user.id);
  assert.equal(error, null);
  assert.deepEqual(data?.map((o) => o.name), ["a.json", "b.json", "sub"]);
  const folder = data?.find((o) => o.name === "sub");
  assert.equal(folder?.id, null);
  const file = data?.find((o) => o.name === "a.json");
  assert.equal(file?.metadata?.size, 6);
  const limited = await files.list(user.id, { limit: 1, offset: 1 });
  assert.deepEqual(limited.data?.map((o) => o.name), ["b.json"]);
  const searched = await files.list(user.id, { search: "b" });
  assert.deepEqual(searched.data?.map((o) => o.name), ["b.json"]);
});

conformanceTest("storage remove deletes rows and bytes, and reports only what it deleted", async () => {
  const user = await createTestUser();
  const path = `${user.id}/gone.json`;
  const files = userClient(user.token).storage.from(BUCKET);
  assert.equal((await files.upload(path, enc("x"), { contentType: "application/json" })).error, null);
  assert.equal(versionFiles(path).length, 1);
  const first = await files.remove([path, `${user.id}/never-existed.json`]);
  assert.equal(first.error, null);
  assert.deepEqual(first.data?.map((o) => o.name), [path]);
  assert.deepEqual(versionFiles(path), []);
  const second = await files.remove([path]);
  assert.deepEqual(second.data, []);
  const down = await files.download(path);
  assert.equal((down.error as unknown as { statusCode: string }).statusCode, "404");
});

conformanceTest(
  "storage signed URL: sign as the owner, fetch without credentials; a bad token is refused",
  async () => {
    const user = await createTestUser();
    const path = `${user.id}/signed.json`;
    const files = userClient(user.token).storage.from(BUCKET);
    assert.equal(
      (await files.upload(path, enc('{"signed":true}'), { contentType: "application/json" })).error,
      null,
    );
    const signed = await files.createSignedUrl(path, 60);
    assert.equal(signed.error, null);
    const url = signed.data!.signedUrl;
    assert.ok(url.startsWith(`${stackEnv().SUPABASE_URL}/storage/v1/object/sign/${BUCKET}/${path}?token=`));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"signed":true}');

    const tampered = await fetch(
      url.replace(/token=([^&]+)/, (_m, t: string) => `token=${t.slice(0, -2)}xx`),
    );
    assert.equal(tampered.status, 400);
    assert.equal((await tampered.json()).statusCode, "400");

    const now = Math.floor(Date.now() / 1000);
    const expiredToken = await signJwt({
      url: `${BUCKET}/${path}`,
      scope: "download",
      iat: now - 120,
      exp: now - 60,
    });
    const expired = await fetch(
      `${stackEnv().SUPABASE_URL}/storage/v1/object/sign/${BUCKET}/${path}?token=${expiredToken}`,
    );
    assert.equal(expired.status, 400);
    await expired.body?.cancel();

    const other = await createTestUser();
    const denied = await userClient(other.token).storage.from(BUCKET).createSignedUrl(path, 60);
    assert.equal((denied.error as unknown as { statusCode: string }).statusCode, "404");
  },
);

conformanceTest("storage info and exists read the object's metadata as the caller", async () => {
  const user = await createTestUser();
  const path = `${user.id}/info.json`;
  const files = userClient(user.token).storage.from(BUCKET);
  assert.equal((await files.upload(path, enc("12345"), { contentType: "application/json" })).error, null);
  const info = await files.info(path);
  assert.equal(info.error, null);
  assert.equal(info.data?.size, 5);
  assert.equal(info.data?.contentType, "application/json");
  assert.equal((await files.exists(path)).data, true);
  assert.equal((await files.exists(`${user.id}/missing.json`)).data, false);
});

conformanceTest("storage update (PUT) overwrites, and a service-role upload has no owner", async () => {
  const path = `${crypto.randomUUID()}/by-service.json`;
  const files = serviceClient().storage.from(BUCKET);
  assert.equal((await files.upload(path, enc("a"), { contentType: "application/json" })).error, null);
  assert.equal((await files.update(path, enc("b"), { contentType: "application/json" })).error, null);
  assert.equal(await (await files.download(path)).data?.text(), "b");
  const events = await sql()<{ op: string; owner_id: string | null }[]>`
    select op, owner_id from stack_test.object_events where name = ${path} order by seq`;
  assert.deepEqual(events.map((e) => e.op), ["INSERT", "UPDATE"]);
  assert.equal(events[0].owner_id, null);
});

conformanceTest(
  "storage rejects bad keys, oversize files and disallowed MIME types with the real codes",
  async () => {
    const admin = serviceClient().storage;
    const bucket = `stack-limits-${crypto.randomUUID().slice(0, 8)}`;
    const created = await admin.createBucket(bucket, {
      public: false,
      fileSizeLimit: 10,
      allowedMimeTypes: ["application/json"],
    });
    assert.equal(created.error, null);
    try {
      const got = await admin.getBucket(bucket);
      assert.equal(got.data?.file_size_limit, 10);
      const dup = await admin.createBucket(bucket, { public: false });
      assert.equal((dup.error as unknown as { statusCode: string }).statusCode, "409");
      const files = admin.from(bucket);
      const big = await files.upload("big.json", enc("x".repeat(11)), { contentType: "application/json" });
      assert.equal((big.error as unknown as { statusCode: string }).statusCode, "413");
      const mime = await files.upload("a.txt", enc("x"), { contentType: "text/plain" });
      assert.equal((mime.error as unknown as { statusCode: string }).statusCode, "415");
      const key = await files.upload("bad\u00e9.json", enc("1"), { contentType: "application/json" });
      const kerr = key.error as unknown as { statusCode: string; message: string };
      assert.equal(kerr.statusCode, "400");
      assert.match(kerr.message, /^Invalid key: /);
      const missing = await admin.from(`no-such-${crypto.randomUUID()}`).upload("x.json", enc("1"), {
        contentType: "application/json",
      });
      assert.equal((missing.error as unknown as { statusCode: string }).statusCode, "404");
    } finally {
      await sql().begin(async (tx) => {
        await tx`select set_config('storage.allow_delete_query', 'true', true)`;
        await tx`delete from storage.objects where bucket_id = ${bucket}`;
        await tx`delete from storage.buckets where id = ${bucket}`;
      });
    }
  },
);

conformanceTest("storage refuses an invalid or expired JWT with statusCode '403' (HTTP 400)", async () => {
  const user = await createTestUser();
  const { mintUserToken } = await import("../../support/stack.ts");
  for (
    const token of [
      await mintUserToken(user.id, { expiresIn: -60 }),
      await mintUserToken(user.id, { secret: "another-secret-that-is-at-least-32-characters" }),
    ]
  ) {
    const res = await userClient(token).storage.from(BUCKET).upload(`${user.id}/x.json`, enc("1"), {
      contentType: "application/json",
    });
    const err = res.error as unknown as { statusCode: string; status: number };
    assert.equal(err.statusCode, "403");
    assert.equal(err.status, 400);
  }
});

conformanceTest(
  "storage leaves no bytes behind when the database write fails (a trigger raises)",
  async () => {
    const user = await createTestUser();
    const path = `${user.id}/reject-me.json`;
    const res = await userClient(user.token).storage.from(BUCKET).upload(path, enc("doomed"), {
      contentType: "application/json",
    });
    const err = res.error as unknown as { statusCode: string; status: number };
    assert.equal(err.status, 500);
    assert.equal(err.statusCode, "500");
    assert.deepEqual(versionFiles(path), []);
    const [{ n }] = await sql()<{ n: number }[]>`
    select count(*)::int as n from storage.objects where bucket_id = ${BUCKET} and name = ${path}`;
    assert.equal(n, 0);
  },
);
