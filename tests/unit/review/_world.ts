/**
 * An in-memory world for the review queue's unit tests: one set of conversation rows and attempts, seen through
 * both ports that touch it — the ReviewRepo (the review functions' SQL rules: scope by owner, "in review" guard,
 * refusals) and the parse flow's ParseQueue (claim guard, attempt fencing) — plus an ObjectStore. The rules here
 * follow supabase/migrations/20251121000000_create_review_functions.sql and 20251119000100_*; the integration
 * tests run the same scenarios against the real SQL.
 */
import type { DownloadResult, ObjectStore, UploadResult } from "../../../shared/pipeline/object_store.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { setLogSink } from "../../../shared/log.ts";
import { parseConversation, type ParseFlowDeps } from "../../../shared/parse_flow/parse_conversation.ts";
import type {
  ClaimResult,
  FinishCompleted,
  FinishFailed,
  ParseQueue,
  ReleaseClaim,
  ReleaseResult,
  Scaffolding,
} from "../../../shared/parse_flow/parse_queue.ts";
import { createParser, type Parser, PARSER_VERSION, parseStoredResponse } from "../../../shared/parse/mod.ts";
import type { CursorPosition } from "../../../shared/review/cursor.ts";
import type { ListQuery } from "../../../shared/review/list_query.ts";
import {
  DEFAULT_RETRY_ALL_BUDGET_MS,
  DEFAULT_SIGNED_URL_SECONDS,
  type ReviewDeps,
} from "../../../shared/review/handler.ts";
import { FakeMonitorStore } from "../monitor/_fake_monitor_store.ts";
import type { AlertView } from "../../../shared/review/health.ts";
import type {
  AttemptRow,
  ItemBundle,
  ItemDetail,
  QueueItem,
  Refusal,
  RepoScope,
  RetryAllFilter,
  ReviewRepo,
  StatusCounts,
} from "../../../shared/review/repo.ts";
import { textResponse } from "../../fixtures/parse/samples.ts";

export const ALICE = "a11ce000-0000-4000-8000-000000000001";
export const BOB = "b0b00000-0000-4000-8000-000000000002";
export const OPERATOR = "0e0e0e0e-0000-4000-8000-000000000003";
export const SERVICE_KEY = "service-key-for-review-tests-0000";
export const NOW = new Date("2025-11-21T12:00:00.000Z");
/** A parser from before the jsonrepair step existed: what the "older parser" failures were made with. */
export const OLD_VERSION = "2025.11.0";
export const oldParser: Parser = createParser({ version: OLD_VERSION, steps: ["direct", "extract"] });

export const SCAFFOLDING: Scaffolding = {
  personaId: "a1a1a1a1-0000-4000-8000-000000000001",
  personaKey: "overwhelmed_avoider",
  personaName: "Jennifer Martinez",
  personaArchetype: "The Overwhelmed Avoider",
  emotionalArcId: "a1a1a1a1-0000-4000-8000-000000000002",
  emotionalArcKey: "shame_to_acceptance",
  emotionalArcName: "Shame to Acceptance",
  trainingTopicId: "a1a1a1a1-0000-4000-8000-000000000003",
  trainingTopicKey: "credit_card_debt",
  trainingTopicName: "Credit Card Debt",
};

/** Unescaped inner quotes: JSON.parse and extraction fail, jsonrepair recovers it (tests/fixtures/parse/hand). */
export const QUOTES_RAW = textResponse(
  Deno.readTextFileSync(
    new URL("../../fixtures/parse/hand/jennifer_martinez_unescaped_quotes.txt", import.meta.url),
  ),
);
/** No JSON at all: every parser version fails it. */
export const PROSE_RAW = textResponse("I'm sorry, I can only describe the conversation in words today.");
/** Cut by max_tokens: a partial result for review. */
export const TRUNCATED_RAW = textResponse(
  '{"conversation_metadata": {"client_persona": "Jennifer Martinez - The Overwhelmed Avoider", ' +
    '"session_context": "debt", "conversation_phase": "crisis_stabilization"}, "turns": [{"turn_number": 1, ' +
    '"role": "user", "content": "I feel stuck", "emotional_context": {"primary_emotion": "shame", "intensity": 0.8}}, ' +
    '{"turn_number": 2, "role": "assistant", "content": "Let us look at it tog',
  { stopReason: "max_tokens" },
);

export function quietLogs(): void {
  setLogSink(() => {});
}

export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify(claims))}.sig`;
}

export function userToken(userId: string): string {
  return fakeJwt({
    sub: userId,
    role: "authenticated",
    aud: "authenticated",
    exp: Math.floor(NOW.getTime() / 1000) + 3600,
  });
}

export interface Row {
  conversation_id: string;
  user_id: string;
  processing_status: string;
  requires_manual_review: boolean;
  parse_attempts: number;
  last_parse_attempt_at: string | null;
  parse_error_message: string | null;
  parse_method_used: string | null;
  parser_version: string | null;
  stop_reason: string | null;
  truncated: boolean;
  raw_response_path: string | null;
  raw_response_size: number | null;
  raw_sha256: string | null;
  raw_stored_at: string | null;
  raw_deleted_at: string | null;
  created_at: string;
  updated_at: string;
  dismissed_at: string | null;
  dismissed_reason: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_notes: string | null;
  file_path: string | null;
  turn_count: number | null;
  conversation_name: string | null;
  claimed_until: Date | null;
  next_attempt_at: Date | null;
  scaffolding: Scaffolding;
}

interface Attempt extends AttemptRow {
  id: number;
  conversation_id: string;
  partial_conversation: unknown;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, what the SQL adapter selects. */
export function key(date: Date, micros = 0): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, (_m, ms) => `.${ms}${String(micros).padStart(3, "0")}Z`);
}

function ts(date: Date): string {
  return key(date);
}

export class World {
  readonly rows = new Map<string, Row>();
  /** The health route's sources: an in-memory monitor store and a reader with one alert of each kind. */
  readonly monitor = new FakeMonitorStore([], []);
  readonly alertsSeen: { open: AlertView[]; past: AlertView[] } = { open: [], past: [] };
  readonly health: ReviewDeps["health"] = {
    monitor: this.monitor,
    reader: {
      alerts: () => Promise.resolve(this.alertsSeen),
      sourceCounts: () =>
        Promise.resolve(
          [...this.rows.values()].length === 0 ? [] : [{
            source: "generated",
            status: "parse_failed",
            count: this.rows.size,
            in_review: this.rows.size,
          }],
        ),
    },
  };
  readonly attempts: Attempt[] = [];
  readonly users = new Set<string>([ALICE, BOB, OPERATOR]);
  readonly objects = new Map<string, Uint8Array>();
  /** Switchable failures of the object store. */
  storageDown = false;
  now = NOW;
  private seq = 0;
  private ids = 0;

  /** A conversation in review, failed by `parser` (default: the old parser) on `raw`. */
  async failedItem(
    userId: string,
    raw: string,
    opts: { createdAt?: string; parser?: Parser; version?: string } = {},
  ): Promise<string> {
    const id = crypto.randomUUID();
    const bytes = new TextEncoder().encode(raw);
    const path = `raw/${userId}/${id}.json`;
    this.objects.set(path, bytes);
    const created = opts.createdAt ?? key(new Date(NOW.getTime() - 3_600_000 + this.seq++ * 1000));
    this.rows.set(id, {
      conversation_id: id,
      user_id: userId,
      processing_status: "raw_stored",
      requires_manual_review: false,
      parse_attempts: 0,
      last_parse_attempt_at: null,
      parse_error_message: null,
      parse_method_used: null,
      parser_version: null,
      stop_reason: null,
      truncated: false,
      raw_response_path: path,
      raw_response_size: bytes.byteLength,
      raw_sha256: await sha256Hex(bytes),
      raw_stored_at: created,
      raw_deleted_at: null,
      created_at: created,
      updated_at: created,
      dismissed_at: null,
      dismissed_reason: null,
      reviewed_by: null,
      reviewed_at: null,
      review_notes: null,
      file_path: null,
      turn_count: null,
      conversation_name: null,
      claimed_until: null,
      next_attempt_at: null,
      scaffolding: SCAFFOLDING,
    });
    // The first parse, by the parser of the time, through the real parse flow.
    const version = opts.version ?? OLD_VERSION;
    const parser = opts.parser ?? oldParser;
    const result = await parseConversation(this.flow(parser, version), id, "trigger");
    if (result.result !== "parse_failed") throw new Error(`fixture ${id} did not fail: ${result.result}`);
    return id;
  }

  row(id: string): Row {
    const r = this.rows.get(id);
    if (!r) throw new Error(`no row ${id}`);
    return r;
  }

  attemptsOf(id: string): Attempt[] {
    return this.attempts.filter((a) => a.conversation_id === id);
  }

  // ---------- ObjectStore ----------
  readonly store: ObjectStore = {
    upload: (path, bytes, opts): Promise<UploadResult> => {
      if (this.storageDown) {
        return Promise.resolve({ ok: false, kind: "unavailable", message: "storage down" });
      }
      if (!opts.upsert && this.objects.has(path)) return Promise.resolve({ ok: false, kind: "exists" });
      this.objects.set(path, bytes);
      return Promise.resolve({ ok: true });
    },
    download: (path): Promise<DownloadResult> => {
      if (this.storageDown) {
        return Promise.resolve({ ok: false, kind: "unavailable", message: "storage down" });
      }
      const bytes = this.objects.get(path);
      return Promise.resolve(bytes ? { ok: true, bytes } : { ok: false, kind: "not_found" });
    },
    remove: (paths) => {
      for (const p of paths) this.objects.delete(p);
      return Promise.resolve({ ok: true, removed: paths });
    },
    signedUrl: (path, seconds) => {
      if (this.storageDown) return Promise.resolve({ ok: false, message: "storage down" });
      return Promise.resolve({
        ok: true,
        url: `http://storage.test/object/sign/conversation-files/${path}?token=t&ttl=${seconds}`,
      });
    },
  };

  // ---------- ParseQueue (the parse flow's SQL rules) ----------
  readonly queue: ParseQueue = {
    claim: (id, now): Promise<ClaimResult> => {
      const r = this.rows.get(id);
      const due = r && (r.next_attempt_at === null || r.next_attempt_at <= now);
      if (!r || r.processing_status !== "raw_stored" || !due) {
        return Promise.resolve({ claimed: null, status: r?.processing_status ?? null });
      }
      r.processing_status = "parsing";
      r.parse_attempts++;
      r.claimed_until = new Date(now.getTime() + 60_000);
      r.last_parse_attempt_at = ts(now);
      r.next_attempt_at = null;
      return Promise.resolve({
        claimed: {
          conversationId: id,
          userId: r.user_id,
          attempt: r.parse_attempts,
          rawPath: r.raw_response_path ?? "",
          rawSha256: r.raw_sha256,
          claimedUntil: r.claimed_until,
          scaffolding: r.scaffolding,
        },
      });
    },
    finishCompleted: (i: FinishCompleted) => {
      const r = this.rows.get(i.conversationId);
      if (!r || r.processing_status !== "parsing" || r.parse_attempts !== i.attempt) {
        return Promise.resolve(false);
      }
      Object.assign(r, {
        processing_status: "completed",
        parse_method_used: i.method,
        parser_version: i.parserVersion,
        turn_count: i.turnCount,
        file_path: i.filePath,
        conversation_name: i.conversationName,
        requires_manual_review: false,
        parse_error_message: null,
        claimed_until: null,
      });
      this.log(i.conversationId, r.user_id, {
        attempt_number: i.attempt,
        parser_version: i.parserVersion,
        method: i.method,
        outcome: "parsed",
        triggered_by: i.triggeredBy,
        created_at: ts(i.now),
      });
      return Promise.resolve(true);
    },
    finishFailed: (i: FinishFailed) => {
      const r = this.rows.get(i.conversationId);
      if (!r || r.processing_status !== "parsing" || r.parse_attempts !== i.attempt) {
        return Promise.resolve(false);
      }
      Object.assign(r, {
        processing_status: "parse_failed",
        requires_manual_review: true,
        parse_error_message: `${i.errorCode}: ${i.errorMessage}`,
        parse_method_used: null,
        parser_version: i.parserVersion,
        truncated: r.truncated || i.truncated,
        stop_reason: r.stop_reason ?? i.stopReason,
        claimed_until: null,
      });
      this.log(i.conversationId, r.user_id, {
        attempt_number: i.attempt,
        parser_version: i.parserVersion,
        method: i.method,
        outcome: i.outcome,
        error_code: i.errorCode,
        error_message: i.errorMessage,
        truncated: i.truncated,
        partial_conversation: i.partialConversation,
        triggered_by: i.triggeredBy,
        created_at: ts(i.now),
      });
      return Promise.resolve(true);
    },
    release: (i: ReleaseClaim): Promise<ReleaseResult> => {
      const r = this.rows.get(i.conversationId);
      if (!r || r.processing_status !== "parsing" || r.parse_attempts !== i.attempt) {
        return Promise.resolve({ outcome: "lost_claim" });
      }
      const next = new Date(i.now.getTime() + 10_000);
      Object.assign(r, {
        processing_status: "raw_stored",
        claimed_until: null,
        next_attempt_at: next,
        parse_error_message: `${i.errorCode}: ${i.errorMessage}`,
      });
      this.log(i.conversationId, r.user_id, {
        attempt_number: i.attempt,
        parser_version: i.parserVersion,
        outcome: "error",
        error_code: i.errorCode,
        error_message: i.errorMessage,
        triggered_by: i.triggeredBy,
        created_at: ts(i.now),
      });
      return Promise.resolve({ outcome: "released", nextAttemptAt: next, consecutiveFailures: 1 });
    },
    leaseSpool: () => Promise.resolve([]),
    finishSpool: () => Promise.resolve(false),
    deferSpool: () => Promise.resolve(),
  };

  private log(conversationId: string, userId: string, a: Partial<Attempt> & Pick<Attempt, "attempt_number">) {
    void userId;
    this.attempts.push({
      id: ++this.ids,
      conversation_id: conversationId,
      parser_version: "unknown",
      method: null,
      outcome: "failed",
      error_code: null,
      error_message: null,
      fixes: [],
      stop_reason: null,
      truncated: false,
      duration_ms: 1,
      triggered_by: null,
      created_at: ts(this.now),
      partial_conversation: null,
      ...a,
    });
  }

  flow(parser: Parser = parseStoredResponse, version = PARSER_VERSION): ParseFlowDeps {
    let tick = 0;
    return {
      queue: this.queue,
      store: this.store,
      parse: parser,
      parserVersion: version,
      clock: { now: () => this.now, monotonic: () => tick++, sleep: () => Promise.resolve() },
    };
  }

  // ---------- ReviewRepo (the review functions' SQL rules) ----------
  private inScope(scope: RepoScope, r: Row | undefined): r is Row {
    return r !== undefined && (scope.userId === null || r.user_id === scope.userId);
  }

  private inReview(r: Row): boolean {
    return r.processing_status === "parse_failed" && r.requires_manual_review;
  }

  private refusal(scope: RepoScope, id: string): Refusal {
    const r = this.rows.get(id);
    if (!this.inScope(scope, r)) return "not_found";
    if (this.inReview(r) && (r.raw_response_path === null || r.raw_deleted_at !== null)) {
      return "raw_unavailable";
    }
    return "not_in_review";
  }

  private latest(id: string): Attempt | null {
    const list = this.attemptsOf(id);
    return list.length === 0 ? null : list[list.length - 1];
  }

  /** Like the database's rule: a row with scaffolding was generated, one without came from a user's upload. */
  private sourceOf(r: Row): "generated" | "uploaded" {
    return r.scaffolding.personaId === null ? "uploaded" : "generated";
  }

  private item(r: Row): QueueItem {
    const la = this.latest(r.conversation_id);
    return {
      conversation_id: r.conversation_id,
      user_id: r.user_id,
      processing_status: r.processing_status,
      requires_manual_review: r.requires_manual_review,
      in_review: this.inReview(r),
      kind: r.truncated || la?.outcome === "partial" ? "partial" : "failed",
      parse_attempts: r.parse_attempts,
      last_parse_attempt_at: r.last_parse_attempt_at,
      parse_error_message: r.parse_error_message,
      parse_method_used: r.parse_method_used,
      parser_version: r.parser_version,
      stop_reason: r.stop_reason,
      truncated: r.truncated,
      persona_key: r.scaffolding.personaKey,
      emotional_arc_key: r.scaffolding.emotionalArcKey,
      topic_key: r.scaffolding.trainingTopicKey,
      tier: "template",
      source: this.sourceOf(r),
      raw_response_size: r.raw_response_size,
      raw_stored_at: r.raw_stored_at,
      created_at: r.created_at,
      dismissed_at: r.dismissed_at,
      dismissed_reason: r.dismissed_reason,
      latest_attempt: la === null ? null : {
        attempt_number: la.attempt_number,
        outcome: la.outcome,
        method: la.method,
        error_code: la.error_code,
        parser_version: la.parser_version,
        triggered_by: la.triggered_by,
        created_at: la.created_at,
      },
    };
  }

  private matchesList(q: ListQuery, r: Row, after: CursorPosition | null): boolean {
    const item = this.item(r);
    const statusOk = q.status === "dismissed"
      ? r.processing_status === "parse_failed" && !r.requires_manual_review && r.dismissed_at !== null
      : this.inReview(r) && (q.status === "all" || item.kind === q.status);
    if (!statusOk) return false;
    if (q.userId !== null && r.user_id !== q.userId) return false;
    if (q.source !== null && this.sourceOf(r) !== q.source) return false;
    if (q.since !== null && r.created_at < key(q.since)) return false;
    if (
      q.errorText !== null && !(r.parse_error_message ?? "").toLowerCase().includes(q.errorText.toLowerCase())
    ) {
      return false;
    }
    if (after !== null && !(cmp(r, after) < 0)) return false;
    return true;
  }

  private retryMatches(f: RetryAllFilter, r: Row, after: CursorPosition | null): boolean {
    return this.inReview(r) && r.raw_response_path !== null && r.raw_deleted_at === null &&
      (f.force || r.parser_version !== f.currentVersion) &&
      (f.since === null || r.created_at >= key(f.since)) &&
      (f.userId === null || r.user_id === f.userId) &&
      (after === null || cmp(r, after) > 0);
  }

  private counts(rows: Row[]): StatusCounts {
    const c: StatusCounts = { total: 0, by_status: {}, by_method: {}, by_outcome: {}, by_parser_version: {} };
    const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
    for (const r of rows) {
      (c as { total: number }).total++;
      bump(c.by_status, r.processing_status);
      bump(c.by_method, r.parse_method_used ?? "none");
      bump(c.by_outcome, this.latest(r.conversation_id)?.outcome ?? "none");
      bump(c.by_parser_version, r.parser_version ?? "none");
    }
    return c;
  }

  readonly repo: ReviewRepo = {
    list: (q) => {
      const all = [...this.rows.values()].sort((a, b) => -cmp(a, pos(b)));
      const page = all.filter((r) => this.matchesList(q, r, q.after));
      const total = all.filter((r) => this.matchesList(q, r, null)).length;
      return Promise.resolve({
        items: page.slice(0, q.limit).map((r) => ({ item: this.item(r), position: pos(r) })),
        total,
        hasMore: page.length > q.limit,
      });
    },
    get: (scope, id): Promise<ItemBundle | null> => {
      const r = this.rows.get(id);
      if (!this.inScope(scope, r)) return Promise.resolve(null);
      const detail: ItemDetail = {
        ...this.item(r),
        raw_response_path: r.raw_response_path,
        raw_sha256: r.raw_sha256,
        raw_deleted_at: r.raw_deleted_at,
        model: "claude-sonnet-4-5",
        input_tokens: 1000,
        output_tokens: 2000,
        file_path: r.file_path,
        conversation_name: r.conversation_name,
        turn_count: r.turn_count,
        reviewed_by: r.reviewed_by,
        reviewed_at: r.reviewed_at,
        review_notes: r.review_notes,
        updated_at: r.updated_at,
      };
      const attempts = this.attemptsOf(id);
      const partial = [...attempts].reverse().find((a) =>
        a.partial_conversation !== null && a.partial_conversation !== undefined
      );
      return Promise.resolve({
        item: detail,
        attempts: attempts.map(({ id: _i, conversation_id: _c, partial_conversation: _p, ...a }) => a),
        partial: partial
          ? {
            attempt_number: partial.attempt_number,
            parser_version: partial.parser_version,
            created_at: partial.created_at,
            conversation: partial.partial_conversation,
          }
          : null,
      });
    },
    requeue: (scope, id, now) => {
      const r = this.rows.get(id);
      if (
        this.inScope(scope, r) && this.inReview(r) && r.raw_response_path !== null &&
        r.raw_deleted_at === null
      ) {
        Object.assign(r, { processing_status: "raw_stored", next_attempt_at: now, claimed_until: null });
        return Promise.resolve(null);
      }
      return Promise.resolve(this.refusal(scope, id));
    },
    resolve: async (scope, id, input, writeFinal) => {
      const r = this.rows.get(id);
      if (!this.inScope(scope, r)) return "not_found";
      if (!this.inReview(r)) return "not_in_review";
      if (input.reviewedBy !== null && !this.users.has(input.reviewedBy)) return "unknown_reviewer";
      const written = await writeFinal({ conversationId: id, userId: r.user_id, scaffolding: r.scaffolding });
      r.parse_attempts++;
      Object.assign(r, {
        processing_status: "completed",
        parse_method_used: "manual",
        parser_version: input.parserVersion,
        requires_manual_review: false,
        parse_error_message: null,
        file_path: written.filePath,
        turn_count: written.turnCount,
        conversation_name: written.conversationName,
        reviewed_by: input.reviewedBy,
        reviewed_at: ts(input.now),
        review_notes: input.notes,
      });
      this.log(id, r.user_id, {
        attempt_number: r.parse_attempts,
        parser_version: input.parserVersion,
        method: "manual",
        outcome: "parsed",
        triggered_by: "manual",
        created_at: ts(input.now),
      });
      return null;
    },
    dismiss: (scope, id, input) => {
      const r = this.rows.get(id);
      if (input.reviewedBy !== null && !this.users.has(input.reviewedBy)) {
        return Promise.resolve("unknown_reviewer");
      }
      if (this.inScope(scope, r) && this.inReview(r)) {
        Object.assign(r, {
          requires_manual_review: false,
          dismissed_at: ts(input.now),
          dismissed_reason: input.reason,
          reviewed_by: input.reviewedBy,
          reviewed_at: ts(input.now),
        });
        return Promise.resolve(null);
      }
      return Promise.resolve(this.refusal(scope, id));
    },
    candidates: (f, after, limit) => {
      const rows = [...this.rows.values()].filter((r) => this.retryMatches(f, r, after)).sort((a, b) =>
        cmp(a, pos(b))
      );
      return Promise.resolve(
        rows.slice(0, limit).map((r) => ({ conversationId: r.conversation_id, position: pos(r) })),
      );
    },
    previewCandidates: (f, after, limit) => {
      const rows = [...this.rows.values()].filter((r) => this.retryMatches(f, r, after)).sort((a, b) =>
        cmp(a, pos(b))
      );
      return Promise.resolve(
        rows.slice(0, limit).map((r) => {
          const latest = this.latest(r.conversation_id);
          return {
            conversationId: r.conversation_id,
            position: pos(r),
            rawResponsePath: r.raw_response_path ?? "",
            rawSha256: r.raw_sha256,
            parserVersion: r.parser_version,
            processingStatus: r.processing_status,
            outcome: latest?.outcome ?? null,
            method: latest?.method ?? null,
            errorCode: latest?.error_code ?? null,
          };
        }),
      );
    },
    countCandidates: (f, after) =>
      Promise.resolve(this.counts([...this.rows.values()].filter((r) => this.retryMatches(f, r, after)))),
    countRows: (ids) => Promise.resolve(this.counts(ids.map((id) => this.row(id)))),
  };

  deps(overrides: Partial<ReviewDeps> = {}): ReviewDeps {
    return {
      repo: this.repo,
      store: this.store,
      flow: this.flow(),
      serviceKeys: [SERVICE_KEY],
      signedUrlSeconds: DEFAULT_SIGNED_URL_SECONDS,
      retryAllBudgetMs: DEFAULT_RETRY_ALL_BUDGET_MS,
      health: this.health,
      ...overrides,
    };
  }
}

function pos(r: Row): CursorPosition {
  return { createdAt: r.created_at, conversationId: r.conversation_id };
}

/** Orders like `(created_at, conversation_id)` in SQL (uuids compare as their hex text). */
function cmp(r: Row, p: CursorPosition): number {
  if (r.created_at !== p.createdAt) return r.created_at < p.createdAt ? -1 : 1;
  if (r.conversation_id === p.conversationId) return 0;
  return r.conversation_id < p.conversationId ? -1 : 1;
}
