import assert from "node:assert/strict";
import {
  countExported,
  countSkipped,
  emptyCounts,
  MANIFEST_VERSION,
  manifestEntry,
  manifestEntrySchema,
  manifestSchema,
  sortedCounts,
  verifyExitCode,
} from "../../../shared/export/manifest.ts";
import { DEFAULT_FILTER } from "../../../shared/export/filter.ts";

const row = { parse_method_used: "direct", source: "generated", model: "m", parser_version: "2026.12.1" };

Deno.test("counts are sorted by key whatever the order rows came in", () => {
  const c = emptyCounts();
  countExported(c, { ...row, parse_method_used: "manual" }, null);
  countExported(c, row, null);
  countSkipped(c, "final_file_missing");
  const s = sortedCounts(c);
  assert.deepEqual(Object.keys(s.by_method), ["direct", "manual"]);
  assert.equal(s.conversations, 2);
  assert.deepEqual(s.skipped_by_reason, { final_file_missing: 1 });
});

Deno.test("countExported() counts a null method, model or parser version under (none), not as a missing key", () => {
  const c = emptyCounts();
  countExported(c, { parse_method_used: null, source: "manual", model: null, parser_version: null }, null);
  assert.deepEqual(c.by_method, { "(none)": 1 });
  assert.deepEqual(c.by_model, { "(none)": 1 });
  assert.deepEqual(c.by_parser_version, { "(none)": 1 });
  assert.deepEqual(c.by_source, { manual: 1 });
});

Deno.test("countExported() counts a split only when there is one; every map sums to the conversations", () => {
  const c = emptyCounts();
  countExported(c, row, "train");
  countExported(c, row, "eval");
  countExported(c, row, "train");
  assert.deepEqual(sortedCounts(c).by_split, { eval: 1, train: 2 });
  const unsplit = emptyCounts();
  countExported(unsplit, row, null);
  assert.deepEqual(unsplit.by_split, {});
  for (const m of [c.by_method, c.by_source, c.by_model, c.by_parser_version, c.by_split]) {
    assert.equal(Object.values(m).reduce((a, b) => a + b, 0), c.conversations);
  }
});

Deno.test("emptyCounts() returns a fresh object each time (runs never share counters)", () => {
  const a = emptyCounts();
  countSkipped(a, "x");
  assert.deepEqual(emptyCounts(), {
    conversations: 0,
    skipped: 0,
    by_method: {},
    by_source: {},
    by_model: {},
    by_parser_version: {},
    by_split: {},
    skipped_by_reason: {},
  });
});

Deno.test("sortedCounts() gives the same JSON for the same counts gathered in any order", () => {
  const a = emptyCounts();
  const b = emptyCounts();
  for (const r of ["z", "a", "m"]) countSkipped(a, r);
  for (const r of ["m", "z", "a"]) countSkipped(b, r);
  assert.notEqual(JSON.stringify(a), JSON.stringify(b));
  assert.equal(JSON.stringify(sortedCounts(a)), JSON.stringify(sortedCounts(b)));
});

Deno.test("verifyExitCode() is 0 only when --verify found nothing", () => {
  assert.equal(verifyExitCode({ checked: 3, files_checked: 1, findings: [] }), 0);
  assert.equal(
    verifyExitCode({
      checked: 3,
      files_checked: 1,
      findings: [{ kind: "unreadable", what: "final_file", id: "c", detail: "503" }],
    }),
    1,
  );
});

Deno.test("manifestSchema refuses a manifest of another version", () => {
  const manifest = {
    manifest_version: MANIFEST_VERSION,
    format: "messages",
    gzip: false,
    filter: DEFAULT_FILTER,
    split: null,
    files: [],
    counts: emptyCounts(),
    parser_versions: [],
    conversations: [],
    skipped: [],
  };
  assert.ok(manifestSchema.safeParse(manifest).success);
  assert.equal(
    manifestSchema.safeParse({ ...manifest, manifest_version: MANIFEST_VERSION + 1 }).success,
    false,
  );
  assert.equal(manifestSchema.safeParse({ ...manifest, format: "csv" }).success, false);
});

Deno.test("manifestEntry() records the row's hashes and parser version, and a missing bucket as conversation-files", () => {
  const row = {
    conversation_id: "c1",
    file_path: "final/u/c1.json",
    storage_bucket: null,
    raw_sha256: "aa",
    parser_version: "2026.12.1",
  };
  const e = manifestEntry(row, "ff", "train");
  assert.deepEqual(e, {
    conversation_id: "c1",
    file_path: "final/u/c1.json",
    storage_bucket: "conversation-files",
    raw_sha256: "aa",
    final_sha256: "ff",
    parser_version: "2026.12.1",
    split: "train",
  });
  assert.deepEqual(manifestEntrySchema.parse(e), e);
  assert.equal(manifestEntry({ ...row, storage_bucket: "other" }, "ff", null).storage_bucket, "other");
});
