/**
 * `deno task reparse --dry-run` against the local stack: rows an older parser sent to review, the real
 * review-queue function's preview pages, the raw objects read from Storage and parsed in memory with this
 * checkout's parser. The prediction must be right per item, and nothing may be written: rows, attempts log and
 * Storage stay as they were.
 */
import assert from "node:assert/strict";
import { PARSER_VERSION } from "../../../shared/parse/mod.ts";
import type { ReparseSummary } from "../../../cli/reparse.ts";
import { createTestUser, sql, stackEnv, stackTest } from "../../support/stack.ts";
import {
  attemptsOf,
  download,
  failedByOldParser,
  OLD_VERSION,
  proseRaw,
  quotesRaw,
  rowOf,
} from "./_review.ts";
import { runDeno } from "../../support/run_deno.ts";

function reparseCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = stackEnv();
  return runDeno(["run", "-A", "cli/reparse.ts", ...args], {
    env: { SUPABASE_URL: env.SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: env.SUPABASE_SERVICE_ROLE_KEY },
  });
}

stackTest(
  "deno task reparse --dry-run: predicts per item what this parser would change, and writes nothing",
  async () => {
    const alice = await createTestUser();
    const recoverable = await failedByOldParser(alice.id, quotesRaw());
    const hopeless = await failedByOldParser(alice.id, proseRaw());
    const mismatched = await failedByOldParser(alice.id, quotesRaw());
    // The row's checksum no longer matches its object: the preview must say so, not parse other bytes.
    await sql()`update public.conversations set raw_sha256 = ${"0".repeat(64)}
                 where conversation_id = ${mismatched}`;
    const ids = [recoverable, hopeless, mismatched];
    const snapshot = async () =>
      JSON.stringify(
        await Promise.all(ids.map(async (id) => {
          const row = await rowOf(id);
          const raw = await download(String(row.raw_response_path));
          return {
            row,
            attempts: await attemptsOf(id),
            raw: raw === null ? null : Array.from(raw.slice(0, 64)),
          };
        })),
      );
    const before = await snapshot();
    const [{ n: attemptsBefore }] = await sql()`
      select count(*)::int as n from public.conversation_parse_attempts where conversation_id = any(${ids}::uuid[])`;

    const json = await reparseCli(["--dry-run", "--json", "--user", alice.id, "--limit", "2"]);
    assert.equal(json.code, 0, json.stderr);
    const summary = JSON.parse(json.stdout) as ReparseSummary;
    assert.equal(summary.dry_run, true);
    assert.equal(summary.processed, 0);
    const preview = summary.preview;
    assert.ok(preview !== null, json.stdout);
    assert.equal(preview.parser_version, PARSER_VERSION);
    const byId = new Map(preview.items.map((i) => [i.conversation_id, i]));
    assert.equal(preview.items.length, 3, "--limit 2 pages: every candidate once");

    const rec = byId.get(recoverable);
    assert.equal(rec?.change, "recovered");
    assert.equal(rec?.parser_version, OLD_VERSION);
    assert.match(rec?.current ?? "", /^parse_failed\((invalid_json|schema_invalid|no_json)\)$/);
    assert.match(rec?.predicted ?? "", /^completed\((direct|extracted|jsonrepair)\)$/);

    const hope = byId.get(hopeless);
    assert.equal(hope?.change, "unchanged", JSON.stringify(hope));
    assert.equal(hope?.predicted, hope?.current);

    assert.deepEqual([byId.get(mismatched)?.change, byId.get(mismatched)?.predicted], [
      "unreadable",
      "unreadable(sha256_mismatch)",
    ]);
    assert.deepEqual(preview.totals.by_change, { recovered: 1, changed: 0, unchanged: 1, unreadable: 1 });
    assert.match(
      json.stderr,
      /reparse: preview page 2: 3 parsed in memory/,
      "progress on stderr with --json",
    );

    const table = await reparseCli(["--dry-run", "--user", alice.id]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      new RegExp(`${recoverable} {2}recovered {2}parse_failed\\(\\w+\\) → completed\\(`),
    );
    assert.match(table.stdout, new RegExp(`${hopeless} {2}unchanged {2}parse_failed\\(\\w+\\) unchanged`));
    assert.match(table.stdout, /total 3: recovered 1, changed 0, unchanged 1, unreadable 1/);

    assert.equal(await snapshot(), before, "rows, attempts and raw objects unchanged");
    const [{ n: attemptsAfter }] = await sql()`
      select count(*)::int as n from public.conversation_parse_attempts where conversation_id = any(${ids}::uuid[])`;
    assert.equal(attemptsAfter, attemptsBefore, "no attempt was logged");
    for (const id of ids) assert.equal((await rowOf(id)).file_path, null, "no final file written");
  },
);
