/**
 * Builds an endpoint's cases (generator + local oracle), sends them with bounded concurrency, and judges each
 * answer: a 4xx, a JSON error body in our shape (or the platform's 401 for verify_jwt functions), no secret in
 * the body or headers, no stack trace. Failures carry everything needed to replay one: the seed, the endpoint
 * and the case's index, credential (by name, never the token), method, path and a body preview.
 */
import { ERROR_STATUS } from "../../../shared/errors.ts";
import { Rng } from "../../support/fuzz.ts";
import { functionsUrl } from "../../support/stack.ts";
import { candidate, type EndpointSpec, type FuzzCase } from "./_cases.ts";
import { type FunctionName, LocalOracle, VERIFY_JWT } from "./_local_oracle.ts";
import type { World } from "./_world.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface BuiltCases {
  cases: FuzzCase[];
  /** Candidates drawn again because the local oracle found them well-formed and able to act. */
  redrawn: number;
}

function requestUrl(fn: FunctionName, tail: string): string {
  return `${functionsUrl(fn)}${tail}`;
}

/**
 * The path after /functions/v1/<fn> once a client has normalised the URL (dot segments, backslashes), or null
 * when the URL no longer addresses `fn` at all (those requests belong to another service).
 */
function normalisedTail(fn: FunctionName, tail: string): string | null {
  let path: string;
  try {
    path = new URL(requestUrl(fn, tail)).pathname;
  } catch {
    return null;
  }
  const prefix = `/functions/v1/${fn}`;
  return path === prefix || path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : null;
}

export function toRequest(c: FuzzCase): Request {
  return new Request(requestUrl(c.fn, c.tail), {
    method: c.method,
    headers: c.headers,
    body: c.body as BodyInit | null,
  });
}

export async function buildCases(
  spec: EndpointSpec,
  world: World,
  oracle: LocalOracle,
  seed: number,
  count: number,
): Promise<BuiltCases> {
  const rng = new Rng(seed).fork(spec.name);
  const cases: FuzzCase[] = [];
  let redrawn = 0;
  while (cases.length < count) {
    if (redrawn > count * 5) {
      throw new Error(
        `${spec.name}: the generator keeps producing well-formed requests (${redrawn} redrawn)`,
      );
    }
    const c = candidate(rng, spec, world, cases.length);
    const tail = normalisedTail(c.fn, c.tail);
    if (tail === null) {
      redrawn++;
      continue;
    }
    // Only a uuid can make a well-formed route harmless, and only if URL normalisation kept it where it was.
    const idKept = c.pathId === undefined ||
      (UUID.test(c.pathId) && (tail === `/${c.pathId}` || tail.startsWith(`/${c.pathId}/`)));
    const verdict = await oracle.verdict(c.fn, toRequest(c));
    const harmless = idKept &&
      (c.safety === "safe" || (c.safety === "foreign" && !world.privileged.has(c.credential)));
    const rejected = verdict.status >= 400 && verdict.status < 500 && !verdict.reachedIo;
    if (rejected || (verdict.reachedIo && harmless)) cases.push(c);
    else redrawn++;
  }
  return { cases, redrawn };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  error?: string;
}

export async function send(c: FuzzCase, timeoutMs = 20_000): Promise<Answer> {
  try {
    const res = await fetch(toRequest(c), { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    return {
      status: 0,
      headers: new Headers(),
      text: "",
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

const KNOWN_CODES = new Set<string>(Object.keys(ERROR_STATUS));

/** What is wrong with an answer, or null when it is the 4xx JSON error the contract asks for. */
export function judge(c: FuzzCase, a: Answer, secrets: readonly string[]): string | null {
  if (a.error) return `no answer: ${a.error}`;
  if (a.status < 400 || a.status >= 500) return `status ${a.status}`;
  const headerText = [...a.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  for (const secret of secrets) {
    if (a.text.includes(secret) || headerText.includes(secret)) return "a secret appears in the answer";
  }
  if (c.method === "HEAD") return a.text === "" ? null : "HEAD answered with a body";
  if (!/^application\/json\b/i.test(a.headers.get("content-type") ?? "")) {
    return `content-type ${a.headers.get("content-type")}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return "the body is not JSON";
  }
  if (body === null || typeof body !== "object") return "the body is not a JSON object";
  const record = body as Record<string, unknown>;
  const error = record.error as Record<string, unknown> | undefined;
  if (error && typeof error === "object") {
    if (typeof error.code !== "string" || typeof error.message !== "string") {
      return "error.code/message missing";
    }
    if (!KNOWN_CODES.has(error.code)) return `unknown error code "${error.code}"`;
    if (ERROR_STATUS[error.code as keyof typeof ERROR_STATUS] !== a.status) {
      return `code "${error.code}" with status ${a.status}`;
    }
    if (/\n\s+at .+:\d+:\d+/.test(error.message)) return "a stack trace in the message";
    return null;
  }
  // verify_jwt: the platform answers before our code runs, in its own shape.
  if (VERIFY_JWT[c.fn] && a.status === 401 && record.code === 401 && typeof record.message === "string") {
    return null;
  }
  return "not an error body: " + a.text.slice(0, 120);
}

export interface Failure {
  c: FuzzCase;
  answer: Answer;
  problem: string;
}

/** Sends every case with at most `concurrency` in flight; returns the failures and the status histogram. */
export async function runCases(
  cases: readonly FuzzCase[],
  secrets: readonly string[],
  concurrency: number,
): Promise<{ failures: Failure[]; statuses: Record<string, number> }> {
  const failures: Failure[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const answer = await send(c);
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      const problem = judge(c, answer, secrets);
      if (problem !== null) failures.push({ c, answer, problem });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  failures.sort((x, y) => x.c.index - y.c.index);
  return { failures, statuses };
}

function preview(body: FuzzCase["body"]): string {
  if (body === null) return "(none)";
  const text = typeof body === "string"
    ? body
    : `bytes ${Array.from(body.slice(0, 40), (b) => b.toString(16)).join(" ")}`;
  const size = typeof body === "string" ? new TextEncoder().encode(body).length : body.length;
  return `${JSON.stringify(text.slice(0, 160))}${text.length > 160 ? "…" : ""} (${size} bytes)`;
}

export function describeFailures(
  seed: number,
  spec: EndpointSpec,
  world: World,
  failures: readonly Failure[],
  count: number,
): string {
  const lines = [
    `${failures.length} of ${count} requests to ${spec.name} broke the contract (seed ${seed}).`,
    `Replay: FUZZ_SEED=${seed} FUZZ_CASES=${count} deno test -A tests/e2e/fuzz/ --filter "${spec.name}"`,
  ];
  for (const f of failures.slice(0, 15)) {
    const credential = world.headers[f.c.credential];
    const h = Object.entries(f.c.headers)
      .filter(([k, v]) => credential[k] !== v) // the credential is shown by name, never as a token
      .map(([k, v]) => `${k}: ${JSON.stringify(v.slice(0, 60))}`)
      .join(", ");
    lines.push(
      `#${f.c.index} [${f.c.kind}] ${f.problem}`,
      `    ${f.c.method} /functions/v1/${f.c.fn}${f.c.tail.slice(0, 200)}  as ${f.c.credential}  {${h}}`,
      `    body ${preview(f.c.body)}`,
      `    -> ${f.answer.status} ${f.answer.error ?? f.answer.text.slice(0, 300)}`,
    );
  }
  if (failures.length > 15) lines.push(`… and ${failures.length - 15} more`);
  return lines.join("\n");
}
