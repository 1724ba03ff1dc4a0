import assert from "node:assert/strict";
import { fixedClock } from "../../../shared/pipeline/clock.ts";
import type { ObjectStore } from "../../../shared/pipeline/object_store.ts";
import { setLogSink } from "../../../shared/log.ts";
import type {
  RetentionCandidate,
  RetentionStore,
  UnfinishedDeletion,
} from "../../../shared/retention/retention_store.ts";
import { type RetentionConfig, runRawRetention } from "../../../shared/retention/run_raw_retention.ts";

const NOW = new Date("2025-11-20T03:30:00Z");
const DAY = 86_400_000;

interface Row extends RetentionCandidate {
  status: string;
  deletedAt: Date | null;
}

/** The SQL eligibility rule in miniature: completed, not yet deleted, raw older than the cutoff. */
class FakeRetentionStore implements RetentionStore {
  rows: Row[] = [];
  unfinishedRows: UnfinishedDeletion[] = [];
  private eligible(cutoff: Date): Row[] {
    return this.rows
      .filter((r) => r.status === "completed" && r.deletedAt === null && r.rawStoredAt < cutoff)
      .sort((a, b) => a.rawStoredAt.getTime() - b.rawStoredAt.getTime());
  }
  candidates(cutoff: Date, limit: number) {
    return Promise.resolve(this.eligible(cutoff).slice(0, limit));
  }
  totals(cutoff: Date) {
    const rows = this.eligible(cutoff);
    return Promise.resolve({ eligible: rows.length, bytes: rows.reduce((s, r) => s + (r.size ?? 0), 0) });
  }
  markBatch(cutoff: Date, limit: number, now: Date) {
    const rows = this.eligible(cutoff).slice(0, limit);
    for (const r of rows) r.deletedAt = now;
    return Promise.resolve(rows.map((r) => ({ ...r })));
  }
  unmark(ids: string[], markedAt: Date) {
    let n = 0;
    for (const r of this.rows) {
      if (ids.includes(r.conversationId) && r.deletedAt?.getTime() === markedAt.getTime()) {
        r.deletedAt = null;
        n++;
      }
    }
    return Promise.resolve(n);
  }
  unfinished() {
    return Promise.resolve(this.unfinishedRows);
  }
}

/** Storage in miniature: a set of paths; `down` makes every remove fail. */
class FakeObjects implements ObjectStore {
  paths = new Set<string>();
  removeCalls: string[][] = [];
  down = false;
  upload() {
    return Promise.resolve({ ok: true as const });
  }
  download() {
    return Promise.resolve({ ok: false as const, kind: "not_found" as const });
  }
  signedUrl() {
    return Promise.resolve({ ok: false as const, message: "not in this fake" });
  }
  remove(paths: string[]) {
    this.removeCalls.push(paths);
    if (this.down) return Promise.resolve({ ok: false as const, message: "Storage answered 503" });
    const removed = paths.filter((p) => this.paths.delete(p));
    return Promise.resolve({ ok: true as const, removed });
  }
}

function world(statusesByAgeDays: Array<[string, number]>) {
  const store = new FakeRetentionStore();
  const objects = new FakeObjects();
  statusesByAgeDays.forEach(([status, days], i) => {
    const path = `raw/u/${i}.json`;
    store.rows.push({
      conversationId: `c${i}`,
      userId: "u",
      path,
      size: 1000,
      rawStoredAt: new Date(NOW.getTime() - days * DAY),
      status,
      deletedAt: null,
    });
    objects.paths.add(path);
  });
  return { store, objects };
}

const config = (over: Partial<RetentionConfig> = {}): RetentionConfig => ({
  retentionDays: 30,
  batchSize: 2,
  maxBatches: 10,
  ...over,
});

function quiet(): () => void {
  const prev = setLogSink(() => {});
  return () => setLogSink(prev);
}

Deno.test("runRawRetention() deletes nothing when RAW_RETENTION_DAYS is unset", async () => {
  const { store, objects } = world([["completed", 400]]);
  const report = await runRawRetention(
    { store, objects, config: config({ retentionDays: null }), clock: fixedClock(NOW) },
    { dryRun: false },
  );
  assert.equal(report.enabled, false);
  assert.match(report.reason ?? "", /RAW_RETENTION_DAYS is not set/);
  assert.equal(objects.removeCalls.length, 0);
  assert.equal(objects.paths.size, 1);
});

Deno.test("runRawRetention() deletes old completed raw in bounded batches and keeps everything else", async () => {
  const restore = quiet();
  try {
    const { store, objects } = world([
      ["completed", 40],
      ["completed", 35],
      ["completed", 31],
      ["completed", 5],
      ["parse_failed", 90],
      ["raw_stored", 90],
    ]);
    const report = await runRawRetention({ store, objects, config: config(), clock: fixedClock(NOW) }, {
      dryRun: false,
    });
    assert.equal(report.deleted, 3);
    assert.equal(report.deleted_bytes, 3000);
    assert.equal(report.batches, 2, "batches of 2: [40, 35], [31]");
    assert.deepEqual(objects.removeCalls, [["raw/u/0.json", "raw/u/1.json"], ["raw/u/2.json"]]);
    assert.deepEqual([...objects.paths].sort(), ["raw/u/3.json", "raw/u/4.json", "raw/u/5.json"]);
    assert.equal(report.more_remaining, false);
    assert.equal(report.cutoff, "2025-10-21T03:30:00.000Z");
  } finally {
    restore();
  }
});

Deno.test("runRawRetention() in a dry run lists what it would delete and deletes nothing", async () => {
  const { store, objects } = world([["completed", 40], ["completed", 35], ["parse_failed", 40]]);
  const report = await runRawRetention({ store, objects, config: config(), clock: fixedClock(NOW) }, {
    dryRun: true,
    limit: 1,
  });
  assert.equal(report.dry_run, true);
  assert.equal(report.eligible, 2);
  assert.equal(report.eligible_bytes, 2000);
  assert.deepEqual(
    report.would_delete.map((w) => w.path),
    ["raw/u/0.json"],
    "bounded by limit, oldest first",
  );
  assert.equal(report.more_remaining, true);
  assert.equal(objects.removeCalls.length, 0);
  assert.ok(store.rows.every((r) => r.deletedAt === null), "nothing marked");
});

Deno.test("runRawRetention() takes its marks back when Storage refuses, and stops", async () => {
  const restore = quiet();
  try {
    const { store, objects } = world([["completed", 40], ["completed", 35], ["completed", 33]]);
    objects.down = true;
    const report = await runRawRetention({ store, objects, config: config(), clock: fixedClock(NOW) }, {
      dryRun: false,
    });
    assert.equal(report.deleted, 0);
    assert.equal(report.failed_batches, 1);
    assert.equal(objects.removeCalls.length, 1, "no second batch against a failing Storage");
    assert.match(report.errors[0], /Cannot delete 2 raw objects: Storage answered 503/);
    assert.ok(store.rows.every((r) => r.deletedAt === null), "every mark taken back");
  } finally {
    restore();
  }
});

Deno.test("runRawRetention() stops at its batch budget and says more remains", async () => {
  const restore = quiet();
  try {
    const { store, objects } = world(Array.from({ length: 7 }, () => ["completed", 60] as [string, number]));
    const report = await runRawRetention(
      { store, objects, config: config({ batchSize: 2, maxBatches: 2 }), clock: fixedClock(NOW) },
      { dryRun: false },
    );
    assert.equal(report.deleted, 4);
    assert.equal(report.more_remaining, true);
    assert.equal(objects.paths.size, 3);
  } finally {
    restore();
  }
});

Deno.test("runRawRetention() counts rows whose object was already gone, and finishes earlier runs' marks", async () => {
  const restore = quiet();
  try {
    const { store, objects } = world([["completed", 40], ["completed", 40]]);
    objects.paths.delete("raw/u/1.json");
    objects.paths.add("raw/u/left-behind.json");
    store.unfinishedRows = [{
      conversationId: "old",
      path: "raw/u/left-behind.json",
      rawDeletedAt: new Date(NOW.getTime() - DAY),
    }];
    const report = await runRawRetention({ store, objects, config: config(), clock: fixedClock(NOW) }, {
      dryRun: false,
    });
    assert.equal(report.finished_from_earlier_runs, 1);
    assert.equal(report.deleted, 1);
    assert.equal(report.already_missing, 1);
    assert.equal(objects.paths.size, 0);
  } finally {
    restore();
  }
});
