/**
 * The console's only way to the project: Supabase Auth for the session (supabase-js) and the review-queue
 * function with the signed-in user's access token. No service key ever reaches the browser: what a user may see
 * is decided by the function (a reviewer sees every user's items, a plain user their own).
 */
import { createClient, type SupabaseClient } from "./deps.ts";

export interface ConsoleConfig {
  supabaseUrl: string;
  anonKey: string;
  functionName: string;
}

/** A schema problem the resolve route reports, by path (`conversation.turns[1].role`). */
export interface Issue {
  path: string;
  message: string;
}

/** An error answer of the function: its HTTP status, code and message (and `issues` for a 400 on resolve). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

export interface Attempt {
  attempt_number: number;
  parser_version: string;
  method: string | null;
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  fixes: Array<{ step: string; code: string; detail?: string }>;
  stop_reason: string | null;
  truncated: boolean;
  triggered_by: string;
  created_at: string;
}

export interface QueueItem {
  conversation_id: string;
  user_id: string;
  processing_status: string;
  in_review: boolean;
  kind: string;
  parse_attempts: number;
  parse_error_message: string | null;
  parse_method_used: string | null;
  parser_version: string | null;
  stop_reason: string | null;
  truncated: boolean;
  source?: string;
  created_at: string;
  dismissed_at: string | null;
  dismissed_reason: string | null;
  reviewed_by?: string | null;
}

export interface ListPage {
  items: QueueItem[];
  next_cursor: string | null;
  total: number;
}

export interface ItemDetail {
  item: QueueItem & { raw_response_path: string | null; review_notes: string | null };
  parse_error: { code: string; message: string } | null;
  attempts: Attempt[];
  partial_result: { attempt_number: number; conversation: unknown } | null;
  raw: { available: true; signed_url: string; size: number } | { available: false; reason: string };
}

export interface RuleRow {
  rule: string;
  title: string;
  state: string;
  value: number | null;
  threshold: number | null;
  unit: string;
  severity: string;
}

export interface AlertRow {
  id: string;
  rule: string;
  severity: string;
  fired_at: string;
  resolved_at: string | null;
  peak_value: number;
  threshold: number;
}

export interface Health {
  checked_at: string;
  status: string;
  rules: RuleRow[];
  status_counts: Record<string, number>;
  hourly: Array<{ hour: string; total: number; direct: number; failed: number; mb_per_hour: number | null }>;
  source_counts: Array<{ source: string; status: string; count: number; in_review: number }>;
  alerts: { open: AlertRow[]; past: AlertRow[] };
}

export interface ReviewApi {
  list(params: Record<string, string>): Promise<ListPage>;
  item(id: string): Promise<ItemDetail>;
  resolve(id: string, conversation: unknown, notes: string | null): Promise<unknown>;
  retry(id: string): Promise<{ result: { result: string } }>;
  dismiss(id: string, reason: string): Promise<unknown>;
  health(): Promise<Health>;
}

/** Reads config.json next to the page (written by `deno task console:build` or the local stack). */
export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`Cannot load config.json: ${res.status}`);
  const c = await res.json() as Partial<ConsoleConfig>;
  if (typeof c.supabaseUrl !== "string" || typeof c.anonKey !== "string") {
    throw new Error("Cannot use config.json: supabaseUrl and anonKey are required");
  }
  return {
    supabaseUrl: c.supabaseUrl.replace(/\/$/, ""),
    anonKey: c.anonKey,
    functionName: c.functionName ?? "review-queue",
  };
}

export function createAuthClient(config: ConsoleConfig): SupabaseClient {
  return createClient(config.supabaseUrl, config.anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
  });
}

/** The review-queue function as typed calls; every call carries the current session's access token. */
export function createReviewApi(config: ConsoleConfig, auth: SupabaseClient): ReviewApi {
  const base = `${config.supabaseUrl}/functions/v1/${config.functionName}`;
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { data } = await auth.auth.getSession();
    const token = data.session?.access_token;
    if (!token) throw new ApiError(401, "unauthorized", "Sign in first");
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        apikey: config.anonKey,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null) as
      | { error?: { code?: string; message?: string; issues?: Issue[] } }
      | null;
    if (!res.ok) {
      const e = json?.error;
      throw new ApiError(
        res.status,
        e?.code ?? "http_error",
        e?.message ?? `HTTP ${res.status}`,
        e?.issues ?? [],
      );
    }
    return json as T;
  }
  return {
    list: (params) => {
      const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ""));
      const s = q.toString();
      return call("GET", s ? `?${s}` : "");
    },
    item: (id) => call("GET", `/${id}`),
    resolve: (id, conversation, notes) =>
      call("POST", `/${id}/resolve`, notes ? { conversation, notes } : { conversation }),
    retry: (id) => call("POST", `/${id}/retry`),
    dismiss: (id, reason) => call("POST", `/${id}/dismiss`, { reason }),
    health: () => call("GET", "/health"),
  };
}
