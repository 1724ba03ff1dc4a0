/**
 * Raw retention with the real Storage API (the local stack's gateway) and real SQL: the raw of an old completed
 * conversation is deleted and its row marked; the raw of conversations in review, failed, resolved by hand or
 * recent is never touched, even when it is older still.
 *
 * Fixture objects use names the storage trigger ignores (`raw/{user}/{id}.retention-fixture.json` is not
 * `raw/{uuid}/{uuid}.json`), so uploading them starts no parse and the rows keep the states set here.
 */
import assert from "node:assert/strict";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { supabaseObjectStore } from "../../../shared/adapters/supabase_object_store.ts";
import { postgresRetentionStore } from "../../../shared/adapters/postgres_retention_store.ts";
import { setLogSink } from "../../../shared/log.ts";
import { handleRawRetention } from "../../../shared/retention/handle_raw_retention.ts";
import { createTestUser, serviceClient, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";

interface Fixture {
  label: string;
  status: string;
  storedDaysAgo: number;
  review?: boolean;
  method?: string | null;
}

const FIXTURES: Fixture[] = [
  // The only eligible one; older than anything else in a test database, so `limit: 1` picks it.
  { label: "completed_old", status: "completed", storedDaysAgo: 4000, method: "direct" },
  { label: "in_review_older", status: "parse_failed", storedDaysAgo: 4001, review: true },
  { label: "dismissed_older", status: "parse_failed", storedDaysAgo: 4001 },
  { label: "resolved_by_hand_older", status: "completed", storedDaysAgo: 4001, method: "manual" },
  { label: "parsing_older", status: "parsing", storedDaysAgo: 4001 },
  { label: "completed_recent", status: "completed", storedDaysAgo: 2, method: "direct" },
];

stackTest(
  "raw-retention deletes old completed raw through Storage and never touches reviewable raw",
  async () => {
    const prevSink = setLogSink(() => {});
    const user = await createTestUser();
    const storage = serviceClient().storage.from(CONVERSATION_BUCKET);
    const paths = new Map<string, { id: string; path: string }>();
    try {
      for (const f of FIXTURES) {
        const id = crypto.randomUUID();
        const path = `raw/${user.id}/${id}.retention-fixture.json`;
        const { error } = await storage.upload(path, new TextEncoder().encode(`{"fixture":"${f.label}"}`), {
          contentType: "application/json",
        });
        assert.equal(error, null, `upload ${f.label}`);
        await sql()`
        insert into public.conversations (conversation_id, user_id, processing_status, raw_response_path,
                                          raw_response_size, raw_stored_at, requires_manual_review, parse_method_used)
        values (${id}, ${user.id}, ${f.status}, ${path}, 30, now() - make_interval(days => ${f.storedDaysAgo}),
                ${f.review ?? false}, ${f.method ?? null})`;
        paths.set(f.label, { id, path });
      }

      const handler = handleRawRetention({
        store: postgresRetentionStore(sql()),
        objects: supabaseObjectStore(stackEnv().SUPABASE_URL, serviceKey()),
        config: { retentionDays: 30, batchSize: 100, maxBatches: 1 },
        serviceKeys: [serviceKey()],
      });
      const post = (body: unknown) =>
        handler(
          new Request("http://localhost/functions/v1/raw-retention", {
            method: "POST",
            headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          }),
        );

      const dry = await (await post({ dry_run: true, limit: 1 })).json();
      assert.deepEqual(dry.would_delete.map((w: { path: string }) => w.path), [
        paths.get("completed_old")!.path,
      ]);
      assert.equal(
        (await storage.download(paths.get("completed_old")!.path)).error,
        null,
        "a dry run deletes nothing",
      );

      const report = await (await post({ limit: 1 })).json();
      assert.equal(report.deleted, 1);
      assert.deepEqual(report.errors, []);

      const gone = await storage.download(paths.get("completed_old")!.path);
      assert.equal(
        (gone.error as { statusCode?: string } | null)?.statusCode,
        "404",
        "the old completed raw is gone",
      );
      const [marked] = await sql()`
      select raw_deleted_at is not null as marked, raw_response_path from public.conversations
       where conversation_id = ${paths.get("completed_old")!.id}`;
      assert.deepEqual({ ...marked }, { marked: true, raw_response_path: paths.get("completed_old")!.path });

      for (const label of FIXTURES.map((f) => f.label).filter((l) => l !== "completed_old")) {
        const kept = await storage.download(paths.get(label)!.path);
        assert.equal(kept.error, null, `${label}: raw kept`);
        const [row] = await sql()`
        select raw_deleted_at from public.conversations where conversation_id = ${paths.get(label)!.id}`;
        assert.equal(row.raw_deleted_at, null, `${label}: not marked`);
      }
    } finally {
      setLogSink(prevSink);
      await storage.remove([...paths.values()].map((p) => p.path));
      await sql()`delete from public.conversations where user_id = ${user.id}`;
    }
  },
);
