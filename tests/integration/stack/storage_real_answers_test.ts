/**
 * The Storage emulation answers as the real Storage server does where they used to differ. Each expectation
 * here was observed on supabase/storage 1.11.2 (built from source, file backend) run against this project's
 * migrations (issue #14; docs/LOCAL_STACK.md lists what still differs): the status, the string statusCode, the code and,
 * where storage-js or a user would read it, the message.
 *
 * One private bucket `real-answers` with a SELECT and INSERT policy for the owner's folder and no DELETE
 * policy; a recorder keeps `storage.operation` as the SQL of each request saw it.
 */
import assert from "node:assert/strict";
import { createTestUser, mintUserToken, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";

const BUCKET = "real-answers";

async function setUp(): Promise<void> {
  await sql().begin(async (tx) => {
    await tx.unsafe(`
      insert into storage.buckets (id, name, public) values ('${BUCKET}', '${BUCKET}', false)
        on conflict (id) do nothing;
      create schema if not exists real_answers;
      create table if not exists real_answers.ops (seq bigserial primary key, event text, name text, operation text);
      create or replace function real_answers.record() returns trigger language plpgsql as $$
      begin
        if coalesce(new.bucket_id, old.bucket_id) = '${BUCKET}' then
          insert into real_answers.ops (event, name, operation)
          values (tg_op, coalesce(new.name, old.name), current_setting('storage.operation', true));
        end if;
        return coalesce(new, old);
      end $$;
      -- Called from the SELECT policy, so a read records the operation it ran under too.
      create or replace function real_answers.saw(p_name text) returns boolean language plpgsql volatile as $$
      begin
        insert into real_answers.ops (event, name, operation)
        values ('SELECT', p_name, current_setting('storage.operation', true));
        return true;
      end $$;
      drop trigger if exists real_answers_ops on storage.objects;
      create trigger real_answers_ops before insert or update or delete on storage.objects
        for each row execute function real_answers.record();
      grant usage on schema real_answers to anon, authenticated, service_role;
      grant insert on real_answers.ops to anon, authenticated, service_role;
      grant usage on sequence real_answers.ops_seq_seq to anon, authenticated, service_role;
      grant execute on function real_answers.saw(text) to anon, authenticated, service_role;
      drop policy if exists "real answers select" on storage.objects;
      create policy "real answers select" on storage.objects for select to authenticated
        using (bucket_id = '${BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text
               and real_answers.saw(name));
      drop policy if exists "real answers insert" on storage.objects;
      create policy "real answers insert" on storage.objects for insert to authenticated
        with check (bucket_id = '${BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text);
    `);
  });
}

async function tearDown(): Promise<void> {
  await sql().begin(async (tx) => {
    await tx.unsafe(`
      drop trigger if exists real_answers_ops on storage.objects;
      drop policy if exists "real answers select" on storage.objects;
      drop policy if exists "real answers insert" on storage.objects;
      drop policy if exists "real answers delete" on storage.objects;
      select set_config('storage.allow_delete_query', 'true', true);
      delete from storage.objects where bucket_id = '${BUCKET}';
      delete from storage.buckets where id = '${BUCKET}';
      drop schema if exists real_answers cascade;
    `);
  });
}

function realAnswerTest(name: string, fn: () => Promise<void>): void {
  stackTest(name, async () => {
    await setUp();
    try {
      await fn();
    } finally {
      await tearDown();
    }
  });
}

const storageUrl = (path: string) => `${stackEnv().SUPABASE_URL}/storage/v1/${path}`;

async function call(
  method: string,
  path: string,
  opts: { token?: string | null; body?: BodyInit; contentType?: string; headers?: Record<string, string> } =
    {},
): Promise<{ status: number; body: Record<string, unknown> | null; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.contentType) headers["content-type"] = opts.contentType;
  const res = await fetch(storageUrl(path), { method, headers, body: opts.body });
  const text = await res.text();
  let body: Record<string, unknown> | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body, text };
}

async function putObject(name: string, content = '{"a":1}'): Promise<void> {
  const res = await call("POST", `object/${BUCKET}/${name}`, {
    token: serviceKey(),
    body: content,
    contentType: "application/json",
  });
  assert.equal(res.status, 200, res.text);
}

async function badTokens(userId: string): Promise<Array<[string, string | null]>> {
  return [
    ["no token", null],
    ["an expired token", await mintUserToken(userId, { expiresIn: -60 })],
    ["a token signed with another secret", await mintUserToken(userId, { secret: "x".repeat(40) })],
    ["garbage", "not-a-jwt"],
  ];
}

realAnswerTest(
  "storage: a GET or info of a private object with a bad, expired or missing token is anonymous: '404' NoSuchBucket",
  async () => {
    const user = await createTestUser();
    const name = `${user.id}/a.json`;
    await putObject(name);
    for (const [label, token] of await badTokens(user.id)) {
      for (const path of [`object/${BUCKET}/${name}`, `object/info/${BUCKET}/${name}`]) {
        const res = await call("GET", path, { token });
        assert.equal(res.status, 400, `${label} ${path}`);
        assert.equal(res.body?.statusCode, "404", `${label} ${path}`);
        assert.equal(res.body?.code, "NoSuchBucket", `${label} ${path}`);
        assert.equal(res.body?.message, "Bucket not found", `${label} ${path}`);
      }
    }
    // The owner's valid token still reads it; the service key too.
    assert.equal((await call("GET", `object/${BUCKET}/${name}`, { token: user.token })).status, 200);
    assert.equal((await call("GET", `object/info/${BUCKET}/${name}`, { token: serviceKey() })).status, 200);
  },
);

realAnswerTest(
  "storage: authenticated routes without Authorization answer '400' InvalidRequest; a garbage JWT '403'",
  async () => {
    const user = await createTestUser();
    const name = `${user.id}/a.json`;
    await putObject(name);
    for (
      const [method, path] of [
        ["GET", `object/authenticated/${BUCKET}/${name}`],
        ["POST", `object/${BUCKET}/${user.id}/b.json`],
        ["POST", `object/sign/${BUCKET}/${name}`],
      ] as const
    ) {
      const none = await call(method, path, { body: method === "POST" ? "{}" : undefined });
      assert.equal(none.status, 400, `${method} ${path}`);
      assert.deepEqual(
        [none.body?.statusCode, none.body?.code, none.body?.message],
        ["400", "InvalidRequest", "headers must have required property 'authorization'"],
        `${method} ${path}`,
      );
    }
    const garbage = await call("GET", `object/authenticated/${BUCKET}/${name}`, { token: "abc.def.ghi" });
    assert.equal(garbage.status, 400);
    assert.deepEqual(
      [garbage.body?.statusCode, garbage.body?.code, garbage.body?.message],
      ["403", "AccessDenied", "JWS Protected Header is invalid"],
    );
  },
);

realAnswerTest("storage: a duplicate upload is '409' KeyAlreadyExists", async () => {
  const user = await createTestUser();
  const name = `${user.id}/dup.json`;
  await putObject(name);
  const again = await call("POST", `object/${BUCKET}/${name}`, {
    token: serviceKey(),
    body: "{}",
    contentType: "application/json",
  });
  assert.equal(again.status, 400);
  assert.deepEqual([again.body?.statusCode, again.body?.code], ["409", "KeyAlreadyExists"]);
});

realAnswerTest(
  "storage: DELETE of one object without a DELETE policy is '403' AccessDenied; a missing one '404'",
  async () => {
    const user = await createTestUser();
    const name = `${user.id}/keep.json`;
    await putObject(name);
    const denied = await call("DELETE", `object/${BUCKET}/${name}`, { token: user.token });
    assert.equal(denied.status, 400);
    assert.deepEqual([denied.body?.statusCode, denied.body?.code], ["403", "AccessDenied"]);
    const [{ n }] = await sql()<{ n: number }[]>`
      select count(*)::int as n from storage.objects where bucket_id = ${BUCKET} and name = ${name}`;
    assert.equal(n, 1, "the object stays");
    const missing = await call("DELETE", `object/${BUCKET}/${user.id}/nothing.json`, { token: user.token });
    assert.deepEqual([missing.body?.statusCode, missing.body?.code], ["404", "NoSuchKey"]);
  },
);

realAnswerTest(
  "storage: schema errors are InvalidRequest with the validator's message; an unknown route is a plain 404",
  async () => {
    const user = await createTestUser();
    const name = `${user.id}/a.json`;
    await putObject(name);
    const sign = await call("POST", `object/sign/${BUCKET}/${name}`, {
      token: serviceKey(),
      body: "{}",
      contentType: "application/json",
    });
    assert.equal(sign.status, 400);
    assert.deepEqual(
      [sign.body?.statusCode, sign.body?.code, sign.body?.message],
      ["400", "InvalidRequest", "body must have required property 'expiresIn'"],
    );
    const signed = await call("GET", `object/sign/${BUCKET}/${name}`);
    assert.deepEqual(
      [signed.body?.statusCode, signed.body?.code, signed.body?.message],
      ["400", "InvalidRequest", "querystring must have required property 'token'"],
    );
    const unknown = await call("GET", "no/such/route", { token: serviceKey() });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body?.statusCode, 404, "a number, not a string");
    assert.equal(unknown.body?.error, "Not Found");
    assert.ok(!("code" in (unknown.body ?? {})), "no code");
  },
);

realAnswerTest("storage: an empty upload body is stored as a 0-byte object", async () => {
  const user = await createTestUser();
  const name = `${user.id}/empty.json`;
  const res = await call("POST", `object/${BUCKET}/${name}`, {
    token: serviceKey(),
    body: new Uint8Array(0),
    contentType: "application/json",
  });
  assert.equal(res.status, 200, res.text);
  const got = await fetch(storageUrl(`object/${BUCKET}/${name}`), {
    headers: { authorization: `Bearer ${serviceKey()}` },
  });
  assert.equal(got.status, 200);
  assert.equal((await got.arrayBuffer()).byteLength, 0);
  const [row] = await sql()<{ size: number }[]>`
    select (metadata ->> 'size')::int as size from storage.objects where bucket_id = ${BUCKET} and name = ${name}`;
  assert.equal(row.size, 0);
});

realAnswerTest("storage: storage.operation names each request as storage-api does", async () => {
  const user = await createTestUser();
  const name = `${user.id}/ops.json`;
  const opsFor = async (after: number) =>
    (await sql()<{ event: string; operation: string }[]>`
      select event, operation from real_answers.ops where seq > ${after} and name = ${name} order by seq`)
      .map((r) => `${r.event} ${r.operation}`);
  const mark = async () =>
    Number(
      (await sql()<{ m: string }[]>`select coalesce(max(seq), 0)::text as m from real_answers.ops`)[0].m,
    );

  let m = await mark();
  const post = await call("POST", `object/${BUCKET}/${name}`, {
    token: user.token,
    body: "{}",
    contentType: "application/json",
  });
  assert.equal(post.status, 200, post.text);
  assert.ok((await opsFor(m)).every((o) => o.endsWith(" storage.object.upload")), "POST: upload");

  m = await mark();
  const upsert = await call("POST", `object/${BUCKET}/${name}`, {
    token: serviceKey(),
    body: "{}",
    contentType: "application/json",
    headers: { "x-upsert": "true" },
  });
  assert.equal(upsert.status, 200, upsert.text);
  assert.deepEqual(
    [...new Set((await opsFor(m)).map((o) => o.split(" ")[1]))],
    ["storage.object.upload"],
    "POST with x-upsert: upload too",
  );

  m = await mark();
  const put = await call("PUT", `object/${BUCKET}/${name}`, {
    token: serviceKey(),
    body: "{}",
    contentType: "application/json",
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(
    [...new Set((await opsFor(m)).map((o) => o.split(" ")[1]))],
    ["storage.object.upload_update"],
    "PUT: upload_update",
  );

  m = await mark();
  assert.equal(
    (await call("GET", `object/authenticated/${BUCKET}/${name}`, { token: user.token })).status,
    200,
  );
  assert.ok((await opsFor(m)).includes("SELECT storage.object.get_authenticated"), "GET: get_authenticated");

  m = await mark();
  await sql().unsafe(`create policy "real answers delete" on storage.objects for delete to authenticated
    using (bucket_id = '${BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text)`);
  try {
    const del = await call("DELETE", `object/${BUCKET}/${name}`, { token: user.token });
    assert.equal(del.status, 200, del.text);
    assert.ok((await opsFor(m)).includes("DELETE storage.object.delete"), "single DELETE: delete");
  } finally {
    await sql().unsafe(`drop policy if exists "real answers delete" on storage.objects`);
  }
});
