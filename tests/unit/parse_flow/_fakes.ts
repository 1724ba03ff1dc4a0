/**
 * In-memory fakes for the parse flow's two ports: a ParseQueue that keeps the SQL functions' rules (claim guard,
 * attempt fencing, consecutive infrastructure failures) and an ObjectStore with switchable failures. Both record
 * every call so tests assert what was written, not how.
 */
import type { DownloadResult, ObjectStore, UploadResult } from "../../../shared/pipeline/object_store.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import type {
  ClaimResult,
  FinishCompleted,
  FinishFailed,
  ParseQueue,
  ReleaseClaim,
  ReleaseResult,
  Scaffolding,
  SpooledRaw,
} from "../../../shared/parse_flow/parse_queue.ts";
import type { ParseFlowDeps } from "../../../shared/parse_flow/parse_conversation.ts";
import { PARSER_VERSION, parseStoredResponse } from "../../../shared/parse/mod.ts";
import { setLogSink } from "../../../shared/log.ts";

/**
 * Deno.test with the flow's logs silenced for the test's duration only (the sink is process-wide; other test
 * modules keep theirs). Tests that read logs install their own sink inside.
 */
export function flowTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test(name, async () => {
    const prev = setLogSink(() => {});
    try {
      await fn();
    } finally {
      setLogSink(prev);
    }
  });
}

export const USER = "4a0c1e52-9d57-4b8e-a7f4-0d2e4b3c5a61";
export const NOW = new Date("2025-11-19T12:00:00Z");

export const SCAFFOLDING: Scaffolding = {
  personaId: "a1a1a1a1-0000-4000-8000-000000000001",
  personaKey: "pragmatic_optimist",
  personaName: "David Chen",
  personaArchetype: "The Pragmatic Optimist",
  emotionalArcId: "a1a1a1a1-0000-4000-8000-000000000002",
  emotionalArcKey: "shame_to_acceptance",
  emotionalArcName: "Shame to Acceptance",
  trainingTopicId: "a1a1a1a1-0000-4000-8000-000000000003",
  trainingTopicKey: "529_plans",
  trainingTopicName: "529 Plans",
};

export const NO_SCAFFOLDING: Scaffolding = {
  personaId: null,
  personaKey: null,
  personaName: null,
  personaArchetype: null,
  emotionalArcId: null,
  emotionalArcKey: null,
  emotionalArcName: null,
  trainingTopicId: null,
  trainingTopicKey: null,
  trainingTopicName: null,
};

export interface FakeRow {
  conversationId: string;
  userId: string;
  status: string;
  attempts: number;
  rawPath: string;
  rawSha256: string | null;
  scaffolding: Scaffolding;
  claimedUntil: Date | null;
  nextAttemptAt: Date | null;
  consecutiveFailures: number;
}

interface SpoolState {
  nextAttemptAt: Date;
  lastError: string | null;
}

export class FakeQueue implements ParseQueue {
  rows = new Map<string, FakeRow>();
  completed: FinishCompleted[] = [];
  failed: FinishFailed[] = [];
  released: ReleaseClaim[] = [];
  spool = new Map<string, { -readonly [K in keyof SpooledRaw]: SpooledRaw[K] } & SpoolState>();
  spoolFinished: string[] = [];
  maxInfraFailures = 10;
  /** Set to make the next call of that method throw (a database outage). */
  failNext: Partial<Record<keyof ParseQueue, Error>> = {};
  /** Runs after a claim: lets a test take the row over while the flow is working. */
  afterClaim: ((row: FakeRow) => void) | null = null;

  add(
    conversationId: string,
    rawSha256: string | null,
    scaffolding = SCAFFOLDING,
    status = "raw_stored",
  ): FakeRow {
    const row: FakeRow = {
      conversationId,
      userId: USER,
      status,
      attempts: 0,
      rawPath: `raw/${USER}/${conversationId}.json`,
      rawSha256,
      scaffolding,
      claimedUntil: null,
      nextAttemptAt: null,
      consecutiveFailures: 0,
    };
    this.rows.set(conversationId, row);
    return row;
  }

  private throwIfAsked(method: keyof ParseQueue): void {
    const err = this.failNext[method];
    if (err) {
      delete this.failNext[method];
      throw err;
    }
  }

  claim(conversationId: string, now: Date): Promise<ClaimResult> {
    this.throwIfAsked("claim");
    const row = this.rows.get(conversationId);
    if (!row) return Promise.resolve({ claimed: null, status: null });
    const claimable = row.status === "raw_stored" ||
      (row.status === "parsing" && row.claimedUntil !== null && row.claimedUntil < now);
    if (!claimable || (row.nextAttemptAt !== null && row.nextAttemptAt > now)) {
      return Promise.resolve({ claimed: null, status: row.status });
    }
    row.status = "parsing";
    row.attempts++;
    row.claimedUntil = new Date(now.getTime() + 60_000);
    row.nextAttemptAt = null;
    const claimed = {
      conversationId,
      userId: row.userId,
      attempt: row.attempts,
      rawPath: row.rawPath,
      rawSha256: row.rawSha256,
      claimedUntil: row.claimedUntil,
      scaffolding: row.scaffolding,
    };
    this.afterClaim?.(row);
    return Promise.resolve({ claimed });
  }

  private owns(conversationId: string, attempt: number): FakeRow | null {
    const row = this.rows.get(conversationId);
    return row && row.status === "parsing" && row.attempts === attempt ? row : null;
  }

  finishCompleted(input: FinishCompleted): Promise<boolean> {
    this.throwIfAsked("finishCompleted");
    const row = this.owns(input.conversationId, input.attempt);
    if (!row) return Promise.resolve(false);
    row.status = "completed";
    row.consecutiveFailures = 0;
    row.rawSha256 ??= input.computedSha256;
    this.completed.push(input);
    return Promise.resolve(true);
  }

  finishFailed(input: FinishFailed): Promise<boolean> {
    this.throwIfAsked("finishFailed");
    const row = this.owns(input.conversationId, input.attempt);
    if (!row) return Promise.resolve(false);
    row.status = "parse_failed";
    row.consecutiveFailures = 0;
    this.failed.push(input);
    return Promise.resolve(true);
  }

  release(input: ReleaseClaim): Promise<ReleaseResult> {
    this.throwIfAsked("release");
    const row = this.owns(input.conversationId, input.attempt);
    if (!row) return Promise.resolve({ outcome: "lost_claim" });
    this.released.push(input);
    row.consecutiveFailures++;
    if (row.consecutiveFailures >= this.maxInfraFailures) {
      row.status = "parse_failed";
      return Promise.resolve({ outcome: "gave_up", consecutiveFailures: row.consecutiveFailures });
    }
    row.status = "raw_stored";
    row.nextAttemptAt = new Date(input.now.getTime() + 10_000);
    return Promise.resolve({
      outcome: "released",
      nextAttemptAt: row.nextAttemptAt,
      consecutiveFailures: row.consecutiveFailures,
    });
  }

  async addSpool(conversationId: string, raw: Uint8Array, sha?: string): Promise<void> {
    this.spool.set(conversationId, {
      conversationId,
      userId: USER,
      raw,
      rawSha256: sha ?? await sha256Hex(raw),
      contentType: "application/json",
      uploadAttempts: 0,
      nextAttemptAt: new Date(0),
      lastError: null,
    });
  }

  leaseSpool(now: Date, limit: number): Promise<SpooledRaw[]> {
    this.throwIfAsked("leaseSpool");
    const due = [...this.spool.values()].filter((s) => s.nextAttemptAt <= now).slice(0, limit);
    for (const s of due) {
      s.uploadAttempts++;
      s.nextAttemptAt = new Date(now.getTime() + 300_000);
    }
    return Promise.resolve(due.map((s) => ({ ...s })));
  }

  finishSpool(conversationId: string, rawSha256: string): Promise<boolean> {
    const s = this.spool.get(conversationId);
    if (!s || s.rawSha256 !== rawSha256) return Promise.resolve(false);
    this.spool.delete(conversationId);
    this.spoolFinished.push(conversationId);
    return Promise.resolve(true);
  }

  deferSpool(conversationId: string, now: Date, error: string): Promise<void> {
    const s = this.spool.get(conversationId);
    if (s) {
      s.lastError = error;
      s.nextAttemptAt = new Date(now.getTime() + 30_000);
    }
    return Promise.resolve();
  }
}

export class FakeStore implements ObjectStore {
  objects = new Map<string, Uint8Array>();
  uploads: { path: string; upsert: boolean; contentType: string }[] = [];
  downloadFails: "unavailable" | null = null;
  uploadFails: "unavailable" | "rejected" | null = null;

  upload(
    path: string,
    bytes: Uint8Array,
    opts: { upsert: boolean; contentType: string },
  ): Promise<UploadResult> {
    this.uploads.push({ path, ...opts });
    if (this.uploadFails === "unavailable") {
      return Promise.resolve({ ok: false, kind: "unavailable", message: "storage is down" });
    }
    if (this.uploadFails === "rejected") {
      return Promise.resolve({
        ok: false,
        kind: "rejected",
        status: "415",
        message: "mime type not allowed",
      });
    }
    if (this.objects.has(path) && !opts.upsert) return Promise.resolve({ ok: false, kind: "exists" });
    this.objects.set(path, bytes);
    return Promise.resolve({ ok: true });
  }

  download(path: string): Promise<DownloadResult> {
    if (this.downloadFails) return Promise.resolve({ ok: false, kind: "unavailable", message: "timeout" });
    const bytes = this.objects.get(path);
    return Promise.resolve(bytes ? { ok: true, bytes } : { ok: false, kind: "not_found" });
  }

  remove(paths: string[]): Promise<{ ok: true; removed: string[] }> {
    for (const p of paths) this.objects.delete(p);
    return Promise.resolve({ ok: true, removed: paths });
  }

  signedUrl(path: string): Promise<{ ok: true; url: string }> {
    return Promise.resolve({ ok: true, url: `http://signed/${path}` });
  }

  text(path: string): string | null {
    const bytes = this.objects.get(path);
    return bytes ? new TextDecoder().decode(bytes) : null;
  }
}

export function fakeDeps(
  queue: FakeQueue,
  store: FakeStore,
  overrides: Partial<ParseFlowDeps> = {},
): ParseFlowDeps {
  let t = 0;
  return {
    queue,
    store,
    parse: parseStoredResponse,
    parserVersion: PARSER_VERSION,
    clock: { now: () => NOW, monotonic: () => (t += 5), sleep: () => Promise.resolve() },
    ...overrides,
  };
}

/** Stores `raw` as the raw object of a new raw_stored row; returns the row. */
export async function stored(
  queue: FakeQueue,
  store: FakeStore,
  conversationId: string,
  raw: string,
  options: { sha?: string | null; scaffolding?: Scaffolding } = {},
): Promise<FakeRow> {
  const bytes = new TextEncoder().encode(raw);
  const sha = options.sha === undefined ? await sha256Hex(bytes) : options.sha;
  const row = queue.add(conversationId, sha, options.scaffolding ?? SCAFFOLDING);
  store.objects.set(row.rawPath, bytes);
  return row;
}
