/**
 * The `export-dataset` function through the gateway (verify_jwt on, as deployed): the service key gets the
 * same bytes `deno task export` writes for the same selection, and a manifest whose sha256 is theirs; a user
 * is refused; a bad filter is a JSON 400. And the Storage adapter both use (shared/adapters/
 * supabase_export_files.ts): a page signed in one request, a missing object `not_found`, a refused key
 * `unavailable`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { supabaseExportFiles } from "../../../shared/adapters/supabase_export_files.ts";
import { manifestSchema } from "../../../shared/export/manifest.ts";
import { runExport } from "../../../shared/export/run.ts";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { createTestUser, functionsUrl, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";
import { completedRows, stackSource, userFilter } from "./_export.ts";

function call(body: unknown, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(functionsUrl("export-dataset"), { method: "POST", headers, body: JSON.stringify(body) });
}

stackTest(
  "export-dataset: the service key streams what the CLI writes, and the manifest that proves it",
  async () => {
    const user = await createTestUser();
    await completedRows(user.id, 7);
    const dir = await Deno.makeTempDir();
    for (const format of ["record", "messages"] as const) {
      await runExport(stackSource(), {
        filter: userFilter(user.id),
        format,
        base: join(dir, format),
        gzip: false,
        split: null,
        resume: false,
      });
      const res = await call({ format, filter: { users: [user.id] } }, serviceKey());
      assert.equal(res.status, 200, await res.clone().text());
      const streamed = new Uint8Array(await res.arrayBuffer());
      assert.deepEqual(streamed, Deno.readFileSync(join(dir, `${format}.jsonl`)), format);

      const mres = await call({ format, part: "manifest", filter: { users: [user.id] } }, serviceKey());
      assert.equal(mres.status, 200);
      const m = manifestSchema.parse(await mres.json());
      assert.equal(m.files[0].sha256, createHash("sha256").update(streamed).digest("hex"));
      assert.equal(m.counts.conversations, 7);
      const cli = manifestSchema.parse(
        JSON.parse(Deno.readTextFileSync(join(dir, `${format}.manifest.json`))),
      );
      assert.deepEqual(m.conversations, cli.conversations, "the same entries as the CLI's manifest");
      assert.deepEqual(m.counts, cli.counts);
    }
    await Deno.remove(dir, { recursive: true });
  },
);

stackTest(
  "export-dataset: a user is refused (no reviewer role yet); a bad filter is a JSON 400",
  async () => {
    const user = await createTestUser();
    const asUser = await call({ filter: { users: [user.id] } }, user.token);
    assert.equal(asUser.status, 403);
    assert.equal((await asUser.json()).error.code, "forbidden");
    const none = await call({}, null);
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const bad = await call({ filter: { since: "last week" } }, serviceKey());
    assert.equal(bad.status, 400);
    const err = (await bad.json()).error;
    assert.equal(err.code, "invalid_body");
    assert.match(err.message, /filter\.since/);
  },
);

stackTest(
  "supabaseExportFiles: a page through signed URLs; a missing object is not_found, a refused key unavailable",
  async () => {
    const user = await createTestUser();
    await completedRows(user.id, 3);
    const rows = await sql()`
    select file_path from public.conversations where user_id = ${user.id} order by created_at`;
    const paths = rows.map((r) => String(r.file_path));
    const files = supabaseExportFiles(stackEnv().SUPABASE_URL, serviceKey());
    const gone = `${paths[0].slice(0, paths[0].lastIndexOf("/"))}-gone/conversation.json`;
    const got = await files.downloadMany!(CONVERSATION_BUCKET, [paths[2], gone, paths[0]], 2);
    assert.deepEqual(
      got.map((a) => (a.ok ? JSON.parse(new TextDecoder().decode(a.bytes)).turns.length : a.kind)),
      [
        4,
        "not_found",
        4,
      ],
    );
    const single = await files.download(CONVERSATION_BUCKET, paths[1]);
    assert.ok(single.ok);

    const refused = supabaseExportFiles(stackEnv().SUPABASE_URL, "not-the-service-key");
    const answers = await refused.downloadMany!(CONVERSATION_BUCKET, paths, 2);
    assert.ok(answers.every((a) => !a.ok && a.kind === "unavailable"), JSON.stringify(answers));
  },
);
