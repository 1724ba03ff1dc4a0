/**
 * `GET /review-queue?status=&since=&error=&user_id=&cursor=&limit=`: the query string, validated.
 *
 *   status   `all` (default: everything waiting for review), `failed` (no usable content), `partial` (a
 *            truncated response: the row's `truncated` flag or a latest attempt with outcome `partial`),
 *            `dismissed` (left the queue with a reason; listed for audit, newest first as well)
 *   since    ISO 8601 timestamp with an offset: items created at or after it
 *   error    text to find in `parse_error_message`, case-insensitive; `%` and `_` match themselves
 *   user_id  service role only: one user's items
 *   source   `any` (default: every item the caller may see, their own uploads included), or one provenance:
 *            `generated`, `uploaded`, `recovered`, `manual` (conversations.source, docs/SECURITY.md)
 *   cursor   `next_cursor` of the previous page (same filters)
 *   limit    1..100, default 25
 *
 * Unknown parameters are a 400: a typo such as `stauts=failed` would otherwise list everything silently.
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import { hasNoNul, NO_NUL_MESSAGE } from "../http/pg_text.ts";
import { describeZodError } from "../http/respond.ts";
import { CONVERSATION_SOURCES, type ConversationSource } from "../provenance.ts";
import { type CursorPosition, decodeCursor, fingerprint } from "./cursor.ts";

export const LIST_STATUSES = ["all", "failed", "partial", "dismissed"] as const;
export type ListStatus = typeof LIST_STATUSES[number];

export { CONVERSATION_SOURCES, type ConversationSource };

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 100;

export interface ListQuery {
  readonly status: ListStatus;
  readonly since: Date | null;
  /** The raw search text (echoed back), and the ILIKE pattern built from it. */
  readonly errorText: string | null;
  readonly errorLike: string | null;
  /** Whose items: the caller's own for a user; a chosen user or everyone (null) for the service role. */
  readonly userId: string | null;
  /** One provenance, or null for any. */
  readonly source: ConversationSource | null;
  readonly after: CursorPosition | null;
  readonly limit: number;
  /** Tag of the filters, carried by cursors made for them. */
  readonly fingerprint: string;
}

export type Scope = { readonly kind: "user"; readonly userId: string } | { readonly kind: "service" };

const KNOWN = new Set(["status", "since", "error", "user_id", "source", "cursor", "limit"]);

const querySchema = z.strictObject({
  status: z.enum(LIST_STATUSES).default("all"),
  since: z.iso.datetime({ offset: true }).optional(),
  error: z.string().trim().min(1).max(200).refine(hasNoNul, NO_NUL_MESSAGE).optional(),
  user_id: z.uuid().optional(),
  source: z.enum([...CONVERSATION_SOURCES, "any"]).default("any"),
  cursor: z.string().min(1).optional(),
  limit: z.string().regex(/^\d{1,3}$/, "must be a whole number").transform(Number).pipe(
    z.number().int().min(1).max(MAX_LIMIT),
  ).optional(),
});

/** `%`, `_` and the escape character itself match literally (the pattern uses `escape '\'`). */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The list query, validated. Throws `bad_request` for an unknown or repeated parameter, a bad value or a
 * cursor made for other filters; `forbidden` when a user asks for another user's items (a user's query is
 * always scoped to themselves). The `error` text is matched literally (`%` and `_` escaped). The fingerprint
 * covers status, since, error, user and, when set, source.
 */
export function parseListQuery(params: URLSearchParams, scope: Scope): ListQuery {
  const raw: Record<string, string> = {};
  for (const [key, value] of params) {
    if (!KNOWN.has(key)) {
      throw appError(
        "bad_request",
        `Cannot read query parameter "${key.slice(0, 40)}": use ${[...KNOWN].join(", ")}`,
      );
    }
    if (key in raw) throw appError("bad_request", `Cannot read query parameter "${key}": it is given twice`);
    raw[key] = value;
  }
  const parsed = querySchema.safeParse(raw);
  if (!parsed.success) {
    throw appError("bad_request", `Cannot read the query: ${describeZodError(parsed.error)}`);
  }
  const q = parsed.data;

  let userId: string | null = q.user_id?.toLowerCase() ?? null;
  if (scope.kind === "user") {
    if (userId !== null && userId !== scope.userId) {
      throw appError("forbidden", "Cannot list another user's items: only the service role may set user_id");
    }
    userId = scope.userId;
  }

  const since = q.since ? new Date(q.since) : null;
  const errorText = q.error ?? null;
  const source = q.source === "any" ? null : q.source;
  // `source` joins the tag only when set, so cursors made before the filter existed stay valid.
  const tag = fingerprint(
    source === null
      ? [q.status, since?.toISOString() ?? null, errorText, userId]
      : [q.status, since?.toISOString() ?? null, errorText, userId, source],
  );
  return {
    status: q.status,
    since,
    errorText,
    errorLike: errorText === null ? null : `%${escapeLikePattern(errorText)}%`,
    userId,
    source,
    after: q.cursor ? decodeCursor(q.cursor, tag) : null,
    limit: q.limit ?? DEFAULT_LIMIT,
    fingerprint: tag,
  };
}
