/**
 * Structured logs: one JSON object per line, always with an event name and, where there is one, the
 * conversation id. The checklist's runbook greps for a few human lines (`[storeRawResponse] …`); those are
 * kept verbatim in `RUNBOOK_LINES` and carried in the `msg` field so both grep and log queries work.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogFields {
  conversation_id?: string;
  [key: string]: unknown;
}

/** The log lines the checklist (docs/RUNBOOK.md, Step 6) tells operators to look for. Keep the wording. */
export const RUNBOOK_LINES = {
  storingRaw: "[storeRawResponse] Storing raw response for conversation...",
  rawUploaded: (path: string) => `[storeRawResponse] ✅ Raw file uploaded to ${path}`,
  parsing: "[parseAndStoreFinal] Parsing conversation...",
  parseSucceeded: (method: "direct" | "extracted" | "jsonrepair" | "manual") => {
    const label =
      { direct: "Direct", extracted: "Extracted", jsonrepair: "jsonrepair", manual: "Manual" }[method];
    return `[parseAndStoreFinal] ✅ ${label} parse succeeded`;
  },
} as const;

export type LogSink = (line: string) => void;

let sink: LogSink = (line) => console.log(line);

/** Tests capture log lines by swapping the sink. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

/** Values that must never reach a log line, whatever field they end up in (keys, tokens). */
const redactions = new Set<string>();

/**
 * From now on, for the life of the process, every occurrence of `secret` in a log line — in any field, the
 * message, a nested value or an error message — is written as `[redacted]`. Entry points call it at boot with
 * the service keys. Values shorter than 8 characters (and `undefined`) are ignored, so an empty or tiny setting
 * cannot blank out unrelated text.
 */
export function redactInLogs(secret: string | undefined): void {
  if (secret && secret.length >= 8) redactions.add(secret);
}

function redact(line: string): string {
  let out = line;
  for (const secret of redactions) out = out.split(secret).join("[redacted]");
  return out;
}

/**
 * Writes one JSON line to the sink: `ts` (ISO), `level`, `event`, `msg` when given, then the fields. An `Error`
 * field is written as `{ name, message }` (no stack, and not the `{}` JSON.stringify would give). Registered
 * secrets are redacted from the finished line. Never throws for ordinary values (a field that JSON cannot
 * encode, such as a BigInt or a cycle, does).
 */
export function log(level: LogLevel, event: string, fields: LogFields = {}, msg?: string): void {
  const entry: Record<string, unknown> = { ts: new Date().toISOString(), level, event };
  if (msg !== undefined) entry.msg = msg;
  for (const [k, v] of Object.entries(fields)) {
    entry[k] = v instanceof Error ? { name: v.name, message: v.message } : v;
  }
  sink(redact(JSON.stringify(entry)));
}

export const logger = {
  debug: (event: string, fields?: LogFields, msg?: string) => log("debug", event, fields, msg),
  info: (event: string, fields?: LogFields, msg?: string) => log("info", event, fields, msg),
  warn: (event: string, fields?: LogFields, msg?: string) => log("warn", event, fields, msg),
  error: (event: string, fields?: LogFields, msg?: string) => log("error", event, fields, msg),
};
