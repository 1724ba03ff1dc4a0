/**
 * The endpoints of the bad-input suite and how to make hostile requests for each.
 *
 * A case is built from independent axes, each mostly "right" so the others get exercised past the first check:
 * the credential (valid for the endpoint ~70 % of the time, else forged, expired, anon, absent, …), the method,
 * the path (review-queue ids: near-miss uuids, traversal, unicode, B's item), the headers (content-type lies,
 * Idempotency-Key abuse, forged x-user-id, junk), and the body (random JSON, a valid body with one field broken,
 * invalid JSON, invalid UTF-8, just over the size limit, deep nesting, empty). Safety — whether the request may
 * reach the database at all — travels with each part: see _local_oracle.ts.
 */
import {
  deepJson,
  headerValue,
  invalidJsonText,
  invalidUtf8,
  nastyString,
  nearMissUuid,
  oversizedText,
  percentEncode,
  randomJson,
  randomObject,
  type Rng,
  traversalId,
  unicodeString,
} from "../../support/fuzz.ts";
import type { FunctionName } from "./_local_oracle.ts";
import { type Credential, CREDENTIALS, type World } from "./_world.ts";

/** Fixed ids from supabase/seed.sql (docs/DATABASE.md, "Seed ids"): real scaffolding a valid body would use. */
const SEED = {
  persona: "10000000-0000-4000-8000-000000000002",
  arc: "20000000-0000-4000-8000-000000000001",
  topic: "30000000-0000-4000-8000-000000000001",
  template: "40000000-0000-4000-8000-000000000001",
};

/**
 * How safe a part is if the request turns out well-formed: `safe` (fresh ids only: the answer is 404),
 * `foreign` (B's item: safe unless the caller is the service role), `unsafe` (a valid request would act),
 * `neutral` (names no id: the other parts decide; a request whose parts are all neutral counts as unsafe).
 */
export type Safety = "safe" | "foreign" | "unsafe" | "neutral";

export interface FuzzCase {
  index: number;
  endpoint: string;
  fn: FunctionName;
  kind: string;
  credential: Credential;
  method: string;
  /** Path and query after /functions/v1/<fn>, starting with "/" or "?" or empty. */
  tail: string;
  /**
   * The id segment the path's safety rests on. A client's URL normalisation can remove it (`/{id}/..` is the
   * list route): the runner then treats the case as unsafe.
   */
  pathId?: string;
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  safety: Safety;
}

export interface EndpointSpec {
  /** Test name and report label, e.g. "review-queue POST /{id}/resolve". */
  readonly name: string;
  readonly fn: FunctionName;
  readonly method: string;
  /** The credential a legitimate caller uses. */
  readonly caller: "user" | "service";
  /** Body limit enforced by the handler (oversized cases go just past it). */
  readonly maxBytes: number;
  /** Path after the function name for a legitimate request, with its safety. */
  path(rng: Rng, w: World): { tail: string; safety: Safety; pathId?: string };
  /** A valid body (before mutation) and its safety; null when the endpoint takes none. */
  validBody(rng: Rng, w: World): { value: unknown; safety: Safety } | null;
  /** Endpoint-specific headers a legitimate caller may send, and abuse of them. */
  headers?(rng: Rng, w: World): Record<string, string>;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

const CONTENT_TYPE_LIES: readonly string[] = [
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/jsonx",
  "application/json-patch",
  "json",
  "application/",
  "*/*",
  "application/octet-stream",
  "image/png",
  "application/json; charset=utf-16",
];

// ---------------------------------------------------------------------------------------------------------------
// Review paths
// ---------------------------------------------------------------------------------------------------------------

/** A conversation id for a review path: mostly malformed, sometimes fresh or B's (both must answer 404 to A). */
function reviewId(rng: Rng, w: World): { id: string; safety: Safety } {
  return rng.weighted<() => { id: string; safety: Safety }>([
    [3, () => ({ id: nearMissUuid(rng), safety: "safe" })],
    [3, () => ({ id: traversalId(rng), safety: "safe" })],
    [2, () => ({ id: percentEncode(nastyString(rng)), safety: "safe" })],
    [1, () => ({ id: nastyString(rng).replace(/[#?]/g, ""), safety: "safe" })],
    [2, () => ({ id: rng.uuid(), safety: "safe" })],
    [1, () => ({ id: rng.uuid().toUpperCase(), safety: "safe" })],
    [2, () => ({ id: w.itemB, safety: "foreign" })],
    [1, () => ({ id: w.itemB.toUpperCase(), safety: "foreign" })],
    [1, () => ({ id: `${w.itemB}%2f..%2f${rng.uuid()}`, safety: "safe" })],
  ])();
}

function itemPath(action: string | null) {
  return (rng: Rng, w: World): { tail: string; safety: Safety; pathId: string } => {
    const { id, safety } = reviewId(rng, w);
    const suffix = action === null ? "" : `/${action}`;
    const path = rng.weighted<() => { tail: string; safety: Safety }>([
      [8, () => ({ tail: `/${id}${suffix}`, safety })],
      [1, () => ({ tail: `/${id}${suffix}/${percentEncode(nastyString(rng))}`, safety })],
      [
        1,
        () => ({
          tail: `/${id}/${rng.pick(["approve", "RETRY", "retry/", "..", "%2e%2e", "delete"])}`,
          safety,
        }),
      ],
      [1, () => ({ tail: `//${id}${suffix}`, safety })],
      [
        1,
        () => ({
          tail: `/${id}${suffix}?${percentEncode(nastyString(rng))}=${percentEncode(nastyString(rng))}`,
          safety,
        }),
      ],
    ])();
    return { ...path, pathId: id };
  };
}

/** Base64 of a JSON value's UTF-8 bytes: what a cursor looks like, with anything inside. */
function base64Json(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value) ?? "null");
  return btoa(String.fromCharCode(...bytes));
}

/** A review-queue list query: one parameter broken, unknown, repeated, or aimed at B. */
function listQuery(rng: Rng, w: World): { tail: string; safety: Safety } {
  const params = new URLSearchParams();
  const valid: [string, string][] = [
    ["status", rng.pick(["all", "failed", "partial", "dismissed"])],
    ["since", new Date(Date.now() - rng.int(0, 1e9)).toISOString()],
    ["error", "invalid_json"],
    ["limit", String(rng.int(1, 100))],
  ];
  for (const [k, v] of valid) if (rng.chance(0.3)) params.append(k, v);
  rng.weighted<() => void>([
    [2, () => params.set("status", nastyString(rng))],
    [2, () => params.set("since", rng.pick(["yesterday", "2025-13-01T00:00:00Z", "0", nastyString(rng)]))],
    [2, () => params.set("limit", rng.pick(["0", "101", "-1", "1e2", "25.5", "0x10", "", nastyString(rng)]))],
    [2, () => params.set("cursor", rng.pick([nastyString(rng), base64Json(randomJson(rng)), "x"]))],
    [2, () => params.set("user_id", rng.chance(0.5) ? w.userB : nearMissUuid(rng))],
    [1, () => params.set("error", rng.pick(["", " ", "x".repeat(201)]))],
    [2, () => params.set(nastyString(rng) || "x", nastyString(rng))],
    [1, () => {
      params.append("status", "all");
      params.append("status", "failed");
    }],
  ])();
  return { tail: `?${params.toString()}`, safety: "unsafe" };
}

// ---------------------------------------------------------------------------------------------------------------
// Valid bodies (before mutation)
// ---------------------------------------------------------------------------------------------------------------

function generateBody(rng: Rng): { value: unknown; safety: Safety } {
  // Fresh scaffolding ids make even a body that survives its mutation harmless (404 unknown persona); the
  // seed's real ids exercise the validation of a body that would otherwise be accepted.
  const fresh = rng.chance(0.5);
  const value: Record<string, unknown> = {
    persona_id: fresh ? rng.uuid() : SEED.persona,
    emotional_arc_id: fresh ? rng.uuid() : SEED.arc,
    training_topic_id: fresh ? rng.uuid() : SEED.topic,
    tier: rng.pick(["template", "scenario", "edge_case"]),
  };
  if (rng.chance(0.3)) value.temperature = rng.next();
  if (rng.chance(0.3)) value.max_tokens = rng.int(256, 64000);
  if (rng.chance(0.2)) value.template_id = fresh ? rng.uuid() : SEED.template;
  return { value, safety: fresh ? "safe" : "unsafe" };
}

function conversation(rng: Rng): Record<string, unknown> {
  const turns = Array.from({ length: 2 * rng.int(1, 3) }, (_, i) => ({
    turn_number: i + 1,
    role: i % 2 === 0 ? "user" : "assistant",
    content: `Turn ${i + 1}: ${unicodeString(rng, 12) || "hello"}`,
    emotional_context: { primary_emotion: "worry", intensity: rng.next() },
  }));
  return {
    conversation_metadata: {
      client_persona: "Marcus Chen - The Overwhelmed Avoider",
      session_context: "fuzz",
      conversation_phase: "initial_opportunity_exploration",
    },
    turns,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The endpoints
// ---------------------------------------------------------------------------------------------------------------

const noPath = (): { tail: string; safety: Safety } => ({ tail: "", safety: "neutral" });

export const ENDPOINTS: readonly EndpointSpec[] = [
  {
    name: "generate-conversation POST",
    fn: "generate-conversation",
    method: "POST",
    caller: "user",
    maxBytes: 16 * 1024,
    path: noPath,
    validBody: (rng) => generateBody(rng),
    headers: (rng, w) => {
      const h: Record<string, string> = {};
      if (rng.chance(0.35)) {
        h["idempotency-key"] = headerValue(
          rng.weighted<() => string>([
            [3, () => rng.uuid()],
            [2, () => nastyString(rng)],
            [1, () => "k".repeat(rng.pick([255, 256, 1024, 8000]))],
            [1, () => ` ${rng.uuid()}`],
            [1, () => "\t"],
            [1, () => "é"],
          ])(),
        ) || "x y";
      }
      if (rng.chance(0.3)) {
        h["x-user-id"] = headerValue(
          rng.weighted<() => string>([
            [2, () => w.userB],
            [2, () => w.userA],
            [1, () => rng.uuid()],
            [2, () => nearMissUuid(rng)],
            [1, () => traversalId(rng)],
            [1, () => `${w.userB}, ${w.userA}`],
          ])(),
        );
      }
      if (rng.chance(0.15)) {
        h.prefer = headerValue(rng.pick(["respond-async", "wait=999999", "wait=-1", nastyString(rng)]));
      }
      return h;
    },
  },
  {
    name: "parse-conversation POST",
    fn: "parse-conversation",
    method: "POST",
    caller: "service",
    maxBytes: 16 * 1024,
    path: noPath,
    validBody: (rng, w) => {
      const value = rng.pick<() => Record<string, unknown>>([
        () => ({ conversation_id: rng.uuid() }),
        () => ({ conversation_id: w.itemB }),
        () => ({ conversation_ids: Array.from({ length: rng.int(1, 5) }, () => rng.uuid()) }),
        () => ({ flush_spool: true }),
      ])();
      if (rng.chance(0.3)) value.source = rng.pick(["trigger", "sweeper", "review", "retry_all", "manual"]);
      return { value, safety: "unsafe" };
    },
  },
  {
    name: "review-queue GET / (list)",
    fn: "review-queue",
    method: "GET",
    caller: "user",
    maxBytes: 16 * 1024,
    path: listQuery,
    validBody: () => null,
  },
  {
    name: "review-queue GET /{id}",
    fn: "review-queue",
    method: "GET",
    caller: "user",
    maxBytes: 16 * 1024,
    path: itemPath(null),
    validBody: () => null,
  },
  {
    name: "review-queue POST /{id}/retry",
    fn: "review-queue",
    method: "POST",
    caller: "user",
    maxBytes: 16 * 1024,
    path: itemPath("retry"),
    // retry ignores a well-formed body: its safety is the path's
    validBody: (rng) => ({ value: rng.chance(0.5) ? {} : randomObject(rng), safety: "neutral" }),
  },
  {
    name: "review-queue POST /{id}/resolve",
    fn: "review-queue",
    method: "POST",
    caller: "user",
    maxBytes: 2 * 1024 * 1024,
    path: itemPath("resolve"),
    validBody: (rng, w) => {
      const value: Record<string, unknown> = { conversation: conversation(rng) };
      if (rng.chance(0.3)) value.notes = unicodeString(rng, 40);
      if (rng.chance(0.3)) value.reviewed_by = rng.chance(0.5) ? w.userA : w.userB;
      return { value, safety: "neutral" };
    },
  },
  {
    name: "review-queue POST /{id}/dismiss",
    fn: "review-queue",
    method: "POST",
    caller: "user",
    maxBytes: 16 * 1024,
    path: itemPath("dismiss"),
    validBody: (rng, w) => {
      const value: Record<string, unknown> = { reason: unicodeString(rng, 40) || "duplicate" };
      if (rng.chance(0.3)) value.reviewed_by = rng.chance(0.5) ? w.userA : w.userB;
      return { value, safety: "neutral" };
    },
  },
  {
    name: "review-queue POST /retry-all",
    fn: "review-queue",
    method: "POST",
    caller: "service",
    maxBytes: 16 * 1024,
    path: (rng) => ({
      tail: rng.chance(0.9) ? "/retry-all" : `/retry-all/${percentEncode(nastyString(rng))}`,
      safety: "unsafe",
    }),
    validBody: (rng, w) => {
      const value: Record<string, unknown> = {};
      if (rng.chance(0.5)) value.dry_run = rng.chance(0.5);
      if (rng.chance(0.3)) value.force = rng.chance(0.5);
      if (rng.chance(0.3)) value.limit = rng.int(1, 500);
      if (rng.chance(0.3)) value.batch_size = rng.int(1, 100);
      if (rng.chance(0.2)) value.user_id = w.userB;
      if (rng.chance(0.2)) value.since = new Date().toISOString();
      return { value, safety: "unsafe" };
    },
  },
  {
    name: "storage-health-monitor POST",
    fn: "storage-health-monitor",
    method: "POST",
    caller: "service",
    maxBytes: 16 * 1024,
    path: noPath,
    validBody: (rng) => ({ value: rng.chance(0.5) ? {} : { dry_run: rng.chance(0.5) }, safety: "unsafe" }),
  },
  {
    name: "raw-retention POST",
    fn: "raw-retention",
    method: "POST",
    caller: "service",
    maxBytes: 16 * 1024,
    path: noPath,
    validBody: (rng) => {
      const value: Record<string, unknown> = {};
      if (rng.chance(0.6)) value.dry_run = rng.chance(0.5);
      if (rng.chance(0.4)) value.limit = rng.int(1, 100_000);
      return { value, safety: "unsafe" };
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Mutation
// ---------------------------------------------------------------------------------------------------------------

/** The same object with one thing wrong: a field dropped, retyped, replaced with nasty text, or one added. */
function breakOne(rng: Rng, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return randomJson(rng);
  const copy: Record<string, unknown> = structuredClone(value as Record<string, unknown>);
  const keys = Object.keys(copy);
  const key = keys.length > 0 ? rng.pick(keys) : "x";
  rng.weighted<() => void>([
    [2, () => delete copy[key]],
    [3, () => (copy[key] = randomJson(rng, 1))],
    [2, () => (copy[key] = nastyString(rng))],
    [1, () => (copy[key] = nearMissUuid(rng))],
    [1, () => (copy[key] = typeof copy[key] === "string" ? [copy[key]] : String(copy[key]))],
    [2, () =>
      Object.defineProperty(copy, rng.chance(0.5) ? nastyString(rng) : "__proto__", {
        value: randomJson(rng, 1),
        enumerable: true,
        writable: true,
        configurable: true,
      })],
    [1, () => {
      // Nested damage, e.g. conversation.turns[0].role
      const inner = copy[key];
      if (inner !== null && typeof inner === "object") copy[key] = breakOne(rng, inner);
      else copy[key] = randomJson(rng);
    }],
  ])();
  return copy;
}

function bodyFor(
  rng: Rng,
  spec: EndpointSpec,
  w: World,
): { kind: string; body: string | Uint8Array | null; safety: Safety } {
  const valid = spec.validBody(rng, w);
  const template = valid?.value ?? {};
  const safety = valid?.safety ?? "neutral";
  return rng.weighted<() => { kind: string; body: string | Uint8Array | null; safety: Safety }>([
    [4, () => ({ kind: "broken field", body: JSON.stringify(breakOne(rng, template)), safety })],
    [3, () => ({ kind: "random json", body: JSON.stringify(randomJson(rng)) ?? "null", safety: "neutral" })],
    [2, () => ({ kind: "invalid json", body: invalidJsonText(rng, template), safety })],
    [1, () => ({ kind: "invalid utf-8", body: invalidUtf8(rng), safety })],
    [1, () => ({ kind: "empty", body: rng.pick(["", " ", "\n", "\t\r\n"]), safety: "neutral" })],
    // Just past the limit, often; megabytes, rarely (they cost upload time, and one per endpoint proves the point).
    [
      spec.maxBytes > 64 * 1024 ? 0.1 : 1,
      () => ({ kind: "oversized", body: oversizedText(rng, spec.maxBytes + rng.int(1, 64)), safety }),
    ],
    [0.05, () => ({ kind: "huge", body: oversizedText(rng, rng.pick([1, 2, 4]) * 1024 * 1024), safety })],
    [0.5, () => ({ kind: "deep", body: deepJson(rng, rng.int(1000, 4000)), safety })],
    [0.5, () => ({ kind: "valid body", body: JSON.stringify(template), safety })],
  ])();
}

/** One candidate case. It may still be well-formed: the runner checks it with the local oracle. */
export function candidate(rng: Rng, spec: EndpointSpec, w: World, index: number): FuzzCase {
  const right: Credential = spec.caller === "user"
    ? rng.pick(["user", "user", "user", "user_lowercase_scheme"])
    : rng.pick(["service", "service", "secret_key", "secret_apikey"]);
  const credential: Credential = rng.chance(0.7) ? right : rng.pick(CREDENTIALS);
  const method = rng.chance(0.85) ? spec.method : rng.pick(METHODS);
  const path = spec.path(rng, w);
  const headers: Record<string, string> = { ...w.headers[credential] };
  let kind = "";
  let body: string | Uint8Array | null = null;
  let bodySafety: Safety = "neutral";
  if (method !== "GET" && method !== "HEAD") {
    const b = bodyFor(rng, spec, w);
    kind = b.kind;
    body = b.body;
    bodySafety = b.safety;
    headers["content-type"] = rng.chance(0.8) ? "application/json" : rng.pick(CONTENT_TYPE_LIES);
    if (rng.chance(0.05)) delete headers["content-type"];
  } else {
    kind = "no body";
  }
  Object.assign(headers, spec.headers?.(rng, w) ?? {});
  if (rng.chance(0.15)) {
    // Headers a proxy or an attacker might add; none of them may change who the caller is.
    const junk = rng.pick<[string, string]>([
      ["x-user-id", headerValue(rng.chance(0.5) ? w.userB : nastyString(rng))],
      ["x-forwarded-for", "127.0.0.1"],
      ["x-real-ip", "10.0.0.1"],
      ["x-client-info", headerValue(nastyString(rng))],
      ["cookie", `sb-access-token=${headerValue(nastyString(rng))}`],
      ["apikey", headerValue(nastyString(rng))],
      ["x-upsert", "true"],
      ["x-supabase-role", "service_role"],
      ["x-forwarded-host", "evil.example"],
    ]);
    if (junk[1] !== "") headers[junk[0]] = junk[1];
  }
  const safeties = [path.safety, bodySafety];
  const safety: Safety = safeties.includes("unsafe") || safeties.every((s) => s === "neutral")
    ? "unsafe"
    : safeties.includes("foreign")
    ? "foreign"
    : "safe";
  return {
    index,
    endpoint: spec.name,
    fn: spec.fn,
    kind: `${kind}${credential === right ? "" : `, ${credential}`}${
      method === spec.method ? "" : `, ${method}`
    }`,
    credential,
    method,
    tail: path.tail,
    pathId: path.pathId,
    headers,
    body,
    safety,
  };
}
