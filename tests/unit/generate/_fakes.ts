/**
 * In-memory stand-ins for the generate flow's outside systems: a conversation repo that keeps rows in a Map
 * and applies the same guards as the SQL, an object store with injectable failures, a scripted Claude, and a
 * clock whose sleeps advance virtual time (no test sleeps for real).
 */
import type {
  ClaudeAnswer,
  ClaudeClient,
  ClaudeFailure,
  ClaudeRequest,
} from "../../../shared/generate/claude_client.ts";
import type {
  ClaudeRecord,
  ConversationRepo,
  ConversationState,
  InsertOutcome,
  NewConversation,
  ScaffoldingIds,
  SpoolInput,
  WriteAheadInput,
} from "../../../shared/generate/conversation_repo.ts";
import type { DownloadResult, ObjectStore, UploadResult } from "../../../shared/pipeline/object_store.ts";
import type { Clock } from "../../../shared/pipeline/clock.ts";
import { InfraFailure } from "../../../shared/pipeline/failures.ts";
import type { GenerateDeps, GenerateInput } from "../../../shared/generate/generate.ts";
import { GenerateRequestSchema, requestHash } from "../../../shared/generate/request.ts";
import type { ClaudeAnswered } from "../../../shared/generate/call_claude.ts";
import { PhaseTimer } from "../../../shared/http/server_timing.ts";
import { setLogSink } from "../../../shared/log.ts";
import type { GenerateSettings } from "../../../shared/generate/config.ts";
import type { Reservation, UsageLimiter } from "../../../shared/generate/usage_budget.ts";

export const USER = "5f0c2b9e-7a4d-4c1e-9a57-2d3c4b5a6f70";
export const PERSONA = "aaaaaaaa-0000-4000-8000-000000000001";
export const ARC = "aaaaaaaa-0000-4000-8000-000000000002";
export const TOPIC = "aaaaaaaa-0000-4000-8000-000000000003";
export const TEMPLATE = "aaaaaaaa-0000-4000-8000-000000000004";

export const persona = {
  id: PERSONA,
  persona_key: "anxious_planner",
  name: "David Chen",
  archetype: "Anxious Planner",
  occupation: "Teacher",
  common_concerns: ["retirement", "college costs"],
  is_active: true,
};
export const arc = {
  id: ARC,
  arc_key: "shame_to_acceptance",
  name: "Shame to Acceptance",
  starting_emotion: "shame",
  ending_emotion: "acceptance",
  typical_turn_count_min: 6,
  typical_turn_count_max: 10,
};
export const topic = {
  id: TOPIC,
  topic_key: "529_plans",
  name: "529 College Savings Plans",
  complexity_level: "intermediate",
};
export const template = {
  id: TEMPLATE,
  template_name: "shame_template",
  template_text:
    "Write about {{persona_name}} ({{archetype}}) feeling {{starting_emotion}} about {{topic_name}}.",
  emotional_arc_type: "shame_to_acceptance",
  tier: "template",
};

export class FakeClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  now(): Date {
    return new Date(Date.UTC(2026, 10, 26) + this.t);
  }
  monotonic(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
    return Promise.resolve();
  }
}

export interface StoredRow {
  conversation_id: string;
  user_id: string;
  processing_status: string;
  idempotency_key: string | null;
  request_hash: string;
  raw_response_path: string | null;
  raw_sha256: string | null;
  stop_reason: string | null;
  model: string | null;
  truncated: boolean;
  generation_error: string | null;
  generation_attempts: number;
  parse_method_used: string | null;
  turn_count: number | null;
  snapshot: Record<string, unknown>;
  template_id: string | null;
  claude?: ClaudeRecord;
}

/**
 * What the repo throws when the database is unreachable: the adapter has translated the driver's connection
 * failure at its edge (shared/adapters/postgres_conversation_repo.ts), so the flow sees the domain's failure.
 */
export function dbDown(): Error {
  return new InfraFailure("database_unavailable", "connect ECONNREFUSED 127.0.0.1:5432");
}

type RepoMethod = keyof ConversationRepo;

export class FakeRepo implements ConversationRepo {
  rows = new Map<string, StoredRow>();
  spool = new Map<string, SpoolInput>();
  users = new Set<string>([USER]);
  scaffolding: { persona: unknown; arc: unknown; topic: unknown; template: unknown } = {
    persona,
    arc,
    topic,
    template: null,
  };
  readonly calls: RepoMethod[] = [];
  /** Methods that throw a connection error. */
  down = new Set<RepoMethod>();
  /** Called after the upload is observed, like the storage trigger: moves generating → raw_stored. */
  onPoll: ((row: StoredRow, polls: number) => void) | null = null;
  polls = 0;

  #enter(m: RepoMethod): void {
    this.calls.push(m);
    if (this.down.has(m)) throw dbDown();
  }

  #state(r: StoredRow): ConversationState {
    return {
      conversation_id: r.conversation_id,
      user_id: r.user_id,
      processing_status: r.processing_status,
      raw_response_path: r.raw_response_path,
      parse_method_used: r.parse_method_used,
      turn_count: r.turn_count,
      requires_manual_review: r.processing_status === "parse_failed",
      parse_error_message: null,
      generation_error: r.generation_error,
      truncated: r.truncated,
      request_hash: r.request_hash,
    };
  }

  userExists(userId: string): Promise<boolean> {
    this.#enter("userExists");
    return Promise.resolve(this.users.has(userId));
  }

  loadScaffolding(_ids: ScaffoldingIds) {
    this.#enter("loadScaffolding");
    return Promise.resolve(this.scaffolding);
  }

  findByIdempotencyKey(userId: string, key: string): Promise<ConversationState | null> {
    this.#enter("findByIdempotencyKey");
    for (const r of this.rows.values()) {
      if (r.user_id === userId && r.idempotency_key === key) return Promise.resolve(this.#state(r));
    }
    return Promise.resolve(null);
  }

  insertGenerating(row: NewConversation): Promise<InsertOutcome> {
    this.#enter("insertGenerating");
    for (const r of this.rows.values()) {
      if (
        row.idempotencyKey !== null && r.user_id === row.userId && r.idempotency_key === row.idempotencyKey
      ) {
        return Promise.resolve({ inserted: false as const, existing: this.#state(r) });
      }
    }
    this.rows.set(row.conversationId, {
      conversation_id: row.conversationId,
      user_id: row.userId,
      processing_status: "generating",
      idempotency_key: row.idempotencyKey,
      request_hash: row.requestHash,
      raw_response_path: null,
      raw_sha256: null,
      stop_reason: null,
      model: row.model,
      truncated: false,
      generation_error: null,
      generation_attempts: 0,
      parse_method_used: null,
      turn_count: null,
      snapshot: row.snapshot,
      template_id: row.templateId,
    });
    return Promise.resolve({ inserted: true as const });
  }

  /** Write-ahead and checkpoint copies (kind, bytes), as raw_response_spool holds them before an upload. */
  writtenAhead = new Map<string, { kind: string; raw: Uint8Array; sha: string }>();

  writeAhead(input: WriteAheadInput): Promise<boolean> {
    this.#enter("writeAhead");
    const r = this.rows.get(input.conversationId);
    if (!r || r.processing_status !== "generating") return Promise.resolve(false);
    const record: ClaudeRecord = input.record;
    r.raw_sha256 = record.rawSha256;
    r.stop_reason = record.stopReason;
    r.model = record.model ?? r.model;
    r.truncated = record.truncated;
    r.generation_attempts = record.attempts;
    r.claude = record;
    if (!this.spool.has(input.conversationId)) {
      this.writtenAhead.set(input.conversationId, {
        kind: input.kind,
        raw: input.raw,
        sha: record.rawSha256,
      });
    }
    return Promise.resolve(true);
  }

  dropWriteAhead(conversationId: string, rawSha256: string): Promise<boolean> {
    this.#enter("dropWriteAhead");
    const w = this.writtenAhead.get(conversationId);
    if (!w || w.sha !== rawSha256 || w.kind !== "write_ahead") return Promise.resolve(false);
    this.writtenAhead.delete(conversationId);
    return Promise.resolve(true);
  }

  spoolRaw(input: SpoolInput) {
    this.#enter("spoolRaw");
    const r = this.rows.get(input.conversationId);
    if (!r) return Promise.resolve({ kind: "missing" as const });
    if (r.processing_status !== "generating") {
      return Promise.resolve({ kind: "not_generating" as const, status: r.processing_status });
    }
    r.processing_status = "raw_spooled";
    r.raw_sha256 ??= input.rawSha256;
    this.spool.set(input.conversationId, input);
    this.writtenAhead.delete(input.conversationId);
    return Promise.resolve({ kind: "spooled" as const });
  }

  markGenerationFailed(conversationId: string, error: string, attempts: number): Promise<boolean> {
    this.#enter("markGenerationFailed");
    const r = this.rows.get(conversationId);
    if (!r || r.processing_status !== "generating") return Promise.resolve(false);
    r.processing_status = "generation_failed";
    r.generation_error = error;
    r.generation_attempts = attempts;
    return Promise.resolve(true);
  }

  readState(conversationId: string): Promise<ConversationState | null> {
    this.#enter("readState");
    const r = this.rows.get(conversationId);
    if (!r) return Promise.resolve(null);
    this.polls++;
    this.onPoll?.(r, this.polls);
    return Promise.resolve(this.#state(r));
  }
}

export class FakeStore implements ObjectStore {
  objects = new Map<string, Uint8Array>();
  uploads = 0;
  /** Results returned by the next uploads, in order, before the store behaves normally. */
  script: UploadResult[] = [];
  /** When set, every upload answers this. */
  always: UploadResult | null = null;
  /** Called when an object is written, like the storage trigger. */
  onStored: ((path: string) => void) | null = null;

  upload(
    path: string,
    bytes: Uint8Array,
    opts: { upsert: boolean; contentType: string },
  ): Promise<UploadResult> {
    this.uploads++;
    const scripted = this.script.shift() ?? this.always;
    if (scripted) return Promise.resolve(scripted);
    if (opts.contentType !== "application/json") throw new Error("unexpected content type");
    if (this.objects.has(path) && !opts.upsert) return Promise.resolve({ ok: false, kind: "exists" });
    this.objects.set(path, bytes.slice());
    this.onStored?.(path);
    return Promise.resolve({ ok: true });
  }

  download(path: string): Promise<DownloadResult> {
    const b = this.objects.get(path);
    return Promise.resolve(b ? { ok: true, bytes: b } : { ok: false, kind: "not_found" });
  }

  remove(paths: string[]) {
    for (const p of paths) this.objects.delete(p);
    return Promise.resolve({ ok: true as const, removed: paths });
  }

  signedUrl(path: string) {
    return Promise.resolve({ ok: true as const, url: `http://signed/${path}` });
  }
}

export function answer(overrides: Partial<ClaudeAnswer> = {}): ClaudeAnswer {
  const message = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [{ type: "text", text: '{"conversation_metadata":{},"turns":[]}' }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 1000, output_tokens: 2000 },
  };
  return {
    body: JSON.stringify(message),
    message,
    model: "claude-sonnet-4-5",
    stopReason: "end_turn",
    usage: {
      input_tokens: 1000,
      output_tokens: 2000,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
    },
    truncated: false,
    truncation: null,
    structuredOutput: true,
    attempts: 1,
    requestId: "req_1",
    ...overrides,
  };
}

/** Claude overloaded through all four attempts: what the client returns after its retries. */
export const OVERLOADED: ClaudeFailure = {
  kind: "unavailable",
  status: 529,
  errorType: "overloaded_error",
  message: "Overloaded",
  attempts: 4,
  retryAfterMs: null,
  requestId: null,
};

export class FakeClaude implements ClaudeClient {
  readonly requests: ClaudeRequest[] = [];
  result: { ok: true; answer: ClaudeAnswer } | { ok: false; failure: ClaudeFailure } = {
    ok: true,
    answer: answer(),
  };
  generate(request: ClaudeRequest) {
    this.requests.push(request);
    return Promise.resolve(this.result);
  }
}

export const settings: GenerateSettings = {
  model: "claude-sonnet-4-5",
  maxTokens: 24576,
  parseWaitMs: 3000,
  uploadRetries: 3,
  uploadTimeoutMs: 15_000,
  writeAheadLeaseMs: 120_000,
  checkpointEveryMs: 5000,
  checkpointEveryChars: 32_768,
  checkpointLeaseMs: 420_000,
  // Off here: the fake clock's sleeps return at once. tests/unit/generate/write_ahead_test.ts turns it on.
  logAheadAfterMs: -1,
};

/**
 * Per-user limits in memory with the SQL's rules (private.reserve_generation): both units or neither, the
 * service exempt, releases only within the window they were charged in. `calls` records every call.
 */
export class FakeLimiter implements UsageLimiter {
  requestsPerMinute = Infinity;
  tokensPerDay = Infinity;
  requests = 0;
  tokens = 0;
  readonly day = new Date("2026-11-26T00:00:00Z");
  calls: string[] = [];

  reserveGeneration(input: { userId: string; maxTokens: number; isService: boolean }): Promise<Reservation> {
    this.calls.push(`reserve ${input.maxTokens}${input.isService ? " service" : ""}`);
    if (input.isService) {
      return Promise.resolve({ allowed: true, tokensCharged: false, tokensWindowStart: null });
    }
    if (this.requests + 1 > this.requestsPerMinute) {
      return Promise.resolve({
        allowed: false,
        limit: "generate_requests_per_minute",
        maxAmount: this.requestsPerMinute,
        used: this.requests + 1,
        resetAt: new Date("2026-11-26T00:01:00Z"),
      });
    }
    if (this.tokens + input.maxTokens > this.tokensPerDay) {
      return Promise.resolve({
        allowed: false,
        limit: "generate_output_tokens_per_day",
        maxAmount: this.tokensPerDay,
        used: this.tokens + input.maxTokens,
        resetAt: new Date("2026-11-27T00:00:00Z"),
      });
    }
    this.requests += 1;
    this.tokens += input.maxTokens;
    return Promise.resolve({ allowed: true, tokensCharged: true, tokensWindowStart: this.day });
  }

  releaseTokens(input: { userId: string; windowStart: Date; amount: number }): Promise<void> {
    this.calls.push(`release ${input.amount}`);
    if (input.windowStart.getTime() === this.day.getTime()) {
      this.tokens = Math.max(0, this.tokens - input.amount);
    }
    return Promise.resolve();
  }
}

export interface Harness {
  deps: GenerateDeps & { serviceKeys: string[]; limits: FakeLimiter };
  limits: FakeLimiter;
  repo: FakeRepo;
  store: FakeStore;
  claude: FakeClaude;
  clock: FakeClock;
}

let idCounter = 0;

/**
 * A wired flow whose store acts like Storage + trigger: writing raw/… moves the row to raw_stored, and the
 * second status poll finds it `completed` (as if parse-conversation had run).
 */
export function harness(overrides: Partial<GenerateSettings> = {}): Harness {
  const repo = new FakeRepo();
  const store = new FakeStore();
  const claude = new FakeClaude();
  const clock = new FakeClock();
  const limits = new FakeLimiter();
  store.onStored = (path) => {
    const id = /([0-9a-f-]{36})\.json$/.exec(path)?.[1];
    const row = id ? repo.rows.get(id) : undefined;
    if (row && row.processing_status === "generating") {
      row.processing_status = "raw_stored";
      row.raw_response_path = path;
    }
  };
  repo.onPoll = (row, polls) => {
    if (row.processing_status === "raw_stored" && polls >= 2) {
      row.processing_status = "completed";
      row.parse_method_used = "direct";
      row.turn_count = 8;
    }
  };
  return {
    deps: {
      repo,
      store,
      claude,
      clock,
      config: { ...settings, ...overrides },
      serviceKeys: ["service-key-for-tests"],
      limits,
      newId: () => `00000000-0000-4000-8000-${String(++idCounter).padStart(12, "0")}`,
    },
    repo,
    store,
    claude,
    clock,
    limits,
  };
}

/** A Claude call that answered, as call_claude.ts returns it: no checkpoints, the last byte at time 0. */
export function answered(overrides: Partial<ClaudeAnswer> = {}, truncated = false): ClaudeAnswered {
  return {
    kind: "answered",
    answer: answer(overrides),
    truncated,
    lastByteAt: 0,
    checkpoints: { written: 0, failed: 0, writeMs: 0, lastBytes: 0 },
    checkpointsClosed: Promise.resolve(),
  };
}

/** A phase timer on the harness's virtual clock. */
export function timerOf(h: Harness): PhaseTimer {
  return new PhaseTimer(() => h.clock.monotonic());
}

/** Inserts a `generating` row for the harness's user, as the prepare phase does; returns its id. */
export async function generatingRow(h: Harness): Promise<string> {
  const conversationId = h.deps.newId!();
  await h.repo.insertGenerating({
    conversationId,
    userId: USER,
    personaId: PERSONA,
    emotionalArcId: ARC,
    trainingTopicId: TOPIC,
    templateId: null,
    personaKey: persona.persona_key,
    emotionalArcKey: arc.arc_key,
    topicKey: topic.topic_key,
    tier: "template",
    snapshot: {},
    model: settings.model,
    idempotencyKey: null,
    requestHash: "hash",
  });
  h.repo.calls.length = 0;
  return conversationId;
}

/** The request body the flow's tests send: the fixtures' persona, arc and topic, tier `template`. */
export const BODY = {
  persona_id: PERSONA,
  emotional_arc_id: ARC,
  training_topic_id: TOPIC,
  tier: "template",
};

/** The flow's input for `raw` (validated as the handler would) from the harness's user, waiting up to 3 s. */
export async function generateInput(
  overrides: Partial<GenerateInput> = {},
  raw: Record<string, unknown> = BODY,
): Promise<GenerateInput> {
  const request = GenerateRequestSchema.parse(raw);
  return {
    request,
    userId: USER,
    userMustExist: false,
    idempotencyKey: null,
    requestHash: await requestHash(request),
    parseWaitMs: 3000,
    ...overrides,
  };
}

/** Sends the log to a fresh list, one parsed line an entry, and returns it (tests look for events in it). */
export function captureLogs(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  setLogSink((line) => lines.push(JSON.parse(line)));
  return lines;
}
