/**
 * One item: the raw response (its text with the break and the truncation point marked, and the fixes the
 * parser recorded), the salvaged partial conversation, the attempts, and the actions — an editor that starts
 * from the salvage and shows the API's schema issues inline by path, resolve, retry, dismiss with a reason,
 * and a link to download the raw object (a signed URL made for this view).
 */
import { ApiError, type Issue, type ItemDetail, type ReviewApi } from "../api.ts";
import { go, shortId, when } from "../format.ts";
import { rawView } from "../raw_text.ts";
import { html, useEffect, useRef, useState } from "../deps.ts";

const EMPTY = { conversation_metadata: {}, turns: [] };

export function Item(props: { api: ReviewApi; id: string }) {
  const [detail, setDetail] = useState<ItemDetail | null>(null);
  const [raw, setRaw] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [issues, setIssues] = useState<Issue[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  async function load() {
    try {
      const d = await props.api.item(props.id);
      setDetail(d);
      setDraft(JSON.stringify(d.partial_result?.conversation ?? EMPTY, null, 2));
      if (d.raw.available) {
        const res = await fetch(d.raw.signed_url);
        setRaw(res.ok ? await res.text() : null);
      }
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    }
  }
  useEffect(() => {
    void load();
    heading.current?.focus();
  }, [props.id]);

  async function resolve(e: Event) {
    e.preventDefault();
    const notes = String(new FormData(e.currentTarget as HTMLFormElement).get("notes") ?? "").trim();
    let conversation: unknown;
    try {
      conversation = JSON.parse(draft);
    } catch (err) {
      setIssues([{ path: "(json)", message: err instanceof Error ? err.message : String(err) }]);
      return;
    }
    try {
      await props.api.resolve(props.id, conversation, notes || null);
      setIssues([]);
      setNotice("Resolved: the corrected conversation is the item's final file.");
      await load();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length > 0) setIssues(err.issues);
      else setIssues([{ path: "", message: err instanceof Error ? err.message : String(err) }]);
    }
  }

  async function act(what: "retry" | "dismiss", e?: Event) {
    e?.preventDefault();
    try {
      if (what === "retry") {
        const r = await props.api.retry(props.id);
        setNotice(`Retried: ${r.result.result}`);
      } else {
        const form = new FormData(e!.currentTarget as HTMLFormElement);
        await props.api.dismiss(props.id, String(form.get("reason") ?? ""));
        setNotice("Dismissed.");
      }
      await load();
    } catch (err) {
      setNotice(err instanceof ApiError ? `${what} failed: ${err.message}` : String(err));
    }
  }

  if (error) {
    return html`<main id="main"><p role="alert" class="error">${error}</p><a href="#/queue">Back to the queue</a></main>`;
  }
  if (!detail) {
    return html`
      <main id="main">
        <p>Loading ${shortId(props.id)}…</p>
      </main>
    `;
  }
  const it = detail.item;
  const latest = detail.attempts[detail.attempts.length - 1];
  const view = raw === null
    ? null
    : rawView(raw, detail.parse_error?.message ?? it.parse_error_message, it.truncated);
  const open = it.in_review;

  return html`
    <main id="main" class="item">
      <p><a href="#/queue">← Queue</a></p>
      <h1 tabindex="-1" ref=${heading}>Item ${shortId(it.conversation_id)}</h1>
      <dl class="facts">
        <dt>Status</dt><dd data-testid="status">${it.processing_status}${it.parse_method_used
          ? ` / ${it.parse_method_used}`
          : ""}</dd>
        <dt>Kind</dt><dd>${it.dismissed_at ? `dismissed: ${it.dismissed_reason}` : it.kind}</dd>
        <dt>Error</dt><dd>${it.parse_error_message ?? "—"}</dd>
        <dt>User</dt><dd>${it.user_id}</dd>
        <dt>Created</dt><dd>${when(it.created_at)}</dd>
      </dl>
      ${notice && html`<p role="status" class="notice">${notice}</p>`}

      <section aria-labelledby="raw-h">
        <h2 id="raw-h">Raw response</h2>
        ${detail.raw.available
          ? html`<p><a href=${detail.raw.signed_url} download=${`${it.conversation_id}.json`}>Download the raw object</a>
              (${detail.raw.size} bytes, link valid 5 minutes)</p>`
          : html`<p>The raw object is not available (${detail.raw.reason}).</p>`}
        ${latest && latest.fixes.length > 0 && html`
          <h3>Fixes the parser made (attempt ${latest.attempt_number})</h3>
          <ul class="fixes">${latest.fixes.map((f) =>
            html`<li><code>${f.step}/${f.code}</code> ${f.detail ?? ""}</li>`
          )}</ul>
        `}
        ${view && html`
          <p>stop_reason: <code>${view.stopReason ?? "—"}</code></p>
          <pre class="raw" tabindex="0" aria-label="The model's text">${view.breakAt !== null
            ? html`${
              view.text.slice(0, view.breakAt)
            }<mark class="break" title="the parser stopped here">⚠ parse stopped here</mark>${
              view.text.slice(view.breakAt)
            }`
            : view.text}${view.truncated
            ? html`<mark id="truncation-point" class="cut">✂ the response was cut here (stop_reason: ${
              view.stopReason ?? "truncated"
            })</mark>`
            : null}</pre>
        `}
      </section>

      <section aria-labelledby="partial-h">
        <h2 id="partial-h">Salvaged conversation</h2>
        ${detail.partial_result
          ? html`
            <p>From attempt ${detail.partial_result.attempt_number}: the complete turns before the cut.</p>
            <ol class="turns">${((detail.partial_result.conversation as {
              turns?: Array<{ role: string; content: string }>;
            }).turns ?? [])
              .map((t) => html`<li><strong>${t.role}</strong>: ${t.content}</li>`)}</ol>
          `
          : html`<p>Nothing was salvaged: the response did not parse at all.</p>`}
      </section>

      <section aria-labelledby="attempts-h">
        <h2 id="attempts-h">Attempts</h2>
        <table class="attempts">
          <thead><tr><th scope="col">#</th><th scope="col">Outcome</th><th scope="col">Method</th><th scope="col">Error code</th>
            <th scope="col">Parser</th><th scope="col">By</th><th scope="col">At (UTC)</th></tr></thead>
          <tbody>${detail.attempts.map((a) =>
            html`
              <tr>
                <td>${a.attempt_number}</td>
                <td>${a.outcome}</td>
                <td>${a.method ?? "—"}</td>
                <td>${a.error_code ?? "—"}</td>
                <td>${a.parser_version}</td>
                <td>${a.triggered_by}</td>
                <td>${when(a.created_at)}</td>
              </tr>
            `
          )}</tbody>
        </table>
      </section>

      ${open && html`
        <section aria-labelledby="fix-h">
          <h2 id="fix-h">Fix and resolve</h2>
          <form onSubmit=${resolve} aria-label="Resolve with a corrected conversation">
            <label for="editor">Corrected conversation (JSON; starts from the salvage)</label>
            <textarea id="editor" rows="18" spellcheck="false" value=${draft}
              aria-invalid=${issues.length > 0 ? "true" : "false"} aria-describedby="issues"
              onInput=${(e: Event) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}></textarea>
            <div id="issues" role="alert">
              ${issues.length > 0 && html`
                <p class="error">${issues.length} problem${issues.length === 1 ? "" : "s"} to fix:</p>
                <ul class="issues">${issues.map((i) =>
                  html`<li><code class="path">${i.path}</code> ${i.message}</li>`
                )}</ul>
              `}
            </div>
            <label for="notes">Notes (optional)</label>
            <input id="notes" name="notes" maxlength="2000" />
            <button type="submit">Resolve</button>
          </form>
          <div class="actions">
            <button type="button" onClick=${() => act("retry")}>Retry with the current parser</button>
            <form onSubmit=${(e: Event) => act("dismiss", e)} aria-label="Dismiss this item">
              <label for="reason">Reason to dismiss</label>
              <input id="reason" name="reason" required maxlength="500" />
              <button type="submit">Dismiss</button>
            </form>
          </div>
        </section>
      `}
      <p><button type="button" class="link" onClick=${() => go("#/queue")}>Back to the queue</button></p>
    </main>
  `;
}
