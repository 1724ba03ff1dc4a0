/**
 * Alert notices as Slack-compatible JSON (`{text, blocks}`, what Slack incoming webhooks and most chat tools
 * that copy them accept). `text` alone carries the whole message, for tools that ignore blocks and for
 * notification previews; `blocks` add the action, the details and the time line.
 */
import type { NoticeKind } from "./evaluate_rules.ts";
import { formatRuleValue, isRuleKey, RULES, type RuleUnit, type Severity } from "./rules.ts";

/** A notice waiting for delivery: the alert row as `private.claim_alert_notices` returns it. */
export interface PendingNotice {
  alertId: string;
  rule: string;
  severity: Severity;
  notice: NoticeKind;
  noticeSeq: number;
  noticeValue: number | null;
  peakValue: number;
  threshold: number;
  firedAt: Date;
  resolvedAt: Date | null;
  noticeQueuedAt: Date;
  deliveryAttempts: number;
  details: Record<string, unknown>;
}

export interface SlackTextObject {
  type: "mrkdwn" | "plain_text";
  text: string;
}

export type SlackBlock =
  | { type: "header"; text: SlackTextObject }
  | { type: "section"; text: SlackTextObject; fields?: SlackTextObject[] }
  | { type: "context"; elements: SlackTextObject[] };

export interface SlackMessage {
  text: string;
  blocks?: SlackBlock[];
}

/** Slack rejects section text over 3000 characters; keep well under it. */
const MAX_SECTION_CHARS = 2_500;
const MAX_DETAIL_CHARS = 400;

const LABEL: Record<NoticeKind, string> = { fired: "FIRING", worse: "WORSE", resolved: "RESOLVED" };

function icon(kind: NoticeKind, severity: Severity): string {
  if (kind === "resolved") return "✅";
  if (kind === "worse") return "🔺";
  return severity === "critical" ? "🔴" : "🟠";
}

function utc(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/:\d\d\.\d{3}Z$/, " UTC");
}

function duration(from: Date, to: Date): string {
  const minutes = Math.max(0, Math.round((to.getTime() - from.getTime()) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  return `${h} h ${minutes % 60} min`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Slack mrkdwn treats &, < and > as control characters. */
function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function detailLines(details: Record<string, unknown>): string[] {
  return Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => {
      const text = typeof v === "string" || typeof v === "number" || typeof v === "boolean"
        ? String(v)
        : JSON.stringify(v);
      return `• ${k.replace(/_/g, " ")}: ${escapeMrkdwn(clip(text, MAX_DETAIL_CHARS))}`;
    });
}

/**
 * One notice as a Slack message. `text` alone carries the whole message (header line, time line and, unless
 * resolved, the action); text from rules, details and the rule key is escaped for mrkdwn (`& < >`), long
 * detail values and the header are clipped. A rule key this code does not know is shown as is, in counts.
 * Pure: `now` is passed in.
 */
export function formatNotice(n: PendingNotice, opts: { environment?: string; now: Date }): SlackMessage {
  const info = isRuleKey(n.rule) ? RULES[n.rule] : null;
  const unit: RuleUnit = info?.unit ?? "count";
  const title = info?.title ?? n.rule;
  const env = opts.environment ? `[${opts.environment}] ` : "";
  const value = formatRuleValue(unit, n.noticeValue);
  const threshold = formatRuleValue(unit, n.threshold);
  const label = LABEL[n.notice];
  const head = `${icon(n.notice, n.severity)} ${env}${label}: ${title} is ${value} (threshold ${threshold})`;

  let timeline: string;
  if (n.notice === "resolved") {
    const end = n.resolvedAt ?? n.noticeQueuedAt;
    timeline = `Fired ${utc(n.firedAt)}, resolved ${utc(end)} after ${duration(n.firedAt, end)}; ` +
      `peak ${formatRuleValue(unit, n.peakValue)}`;
  } else if (n.notice === "worse") {
    timeline = `Firing since ${utc(n.firedAt)} (${duration(n.firedAt, opts.now)}); peak so far ` +
      formatRuleValue(unit, n.peakValue);
  } else {
    timeline = `Firing since ${utc(n.firedAt)}`;
  }
  if (n.deliveryAttempts > 0) {
    timeline += `; delivered late (attempt ${n.deliveryAttempts + 1}, queued ${utc(n.noticeQueuedAt)})`;
  }

  const text = `${head}. ${timeline}.` +
    (info && n.notice !== "resolved" ? ` Action: ${info.action}.` : "");

  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: clip(`${label}: ${title}`, 150) } },
    {
      type: "section",
      text: { type: "mrkdwn", text: escapeMrkdwn(head) },
      fields: [
        { type: "mrkdwn", text: `*Value*\n${escapeMrkdwn(value)}` },
        { type: "mrkdwn", text: `*Threshold*\n${escapeMrkdwn(threshold)}` },
        { type: "mrkdwn", text: `*Severity*\n${n.severity}` },
        { type: "mrkdwn", text: `*Rule*\n\`${escapeMrkdwn(n.rule)}\`` },
      ],
    },
  ];
  if (info && n.notice !== "resolved") {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Action:* ${escapeMrkdwn(info.action)}\n_${escapeMrkdwn(info.measures)}_`,
      },
    });
  }
  const lines = detailLines(n.details);
  if (lines.length > 0) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(lines.join("\n"), MAX_SECTION_CHARS) },
    });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: escapeMrkdwn(timeline) }] });
  return { text, blocks };
}
