/**
 * The queue: the API's filters (status, error text, since, source), the total, keyset pages by `next_cursor`,
 * live refresh every 15 s, and keyboard work: j/k move, enter opens, r retries, d dismisses (asks a reason).
 */
import { ApiError, type ListPage, type QueueItem, type ReviewApi } from "../api.ts";
import { go, shortId, when } from "../format.ts";
import { html, useCallback, useEffect, useRef, useState } from "../deps.ts";

const REFRESH_MS = 15_000;

interface Filters {
  status: string;
  error: string;
  since: string;
  source: string;
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
}

export function Queue(props: { api: ReviewApi; reviewer: boolean }) {
  const [filters, setFilters] = useState<Filters>({ status: "all", error: "", since: "", source: "any" });
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<ListPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [dismissing, setDismissing] = useState<QueueItem | null>(null);
  const [updated, setUpdated] = useState<string | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);

  const load = useCallback(async () => {
    try {
      const cursor = cursors[cursors.length - 1];
      const params: Record<string, string> = {
        status: filters.status,
        error: filters.error.trim(),
        source: filters.source,
        since: filters.since ? new Date(filters.since).toISOString() : "",
        limit: "25",
      };
      if (cursor) params.cursor = cursor;
      const next = await props.api.list(params);
      setPage(next);
      setError(null);
      setUpdated(new Date().toLocaleTimeString());
      setSelected((s) => Math.min(s, Math.max(next.items.length - 1, 0)));
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    }
  }, [props.api, filters, cursors]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const items = page?.items ?? [];
  const current = items[selected] as QueueItem | undefined;

  async function retry(item: QueueItem) {
    try {
      const r = await props.api.retry(item.conversation_id);
      setNotice(`Retried ${shortId(item.conversation_id)}: ${r.result.result}`);
    } catch (e) {
      setNotice(e instanceof ApiError ? `Retry failed: ${e.message}` : String(e));
    }
    await load();
  }

  async function dismiss(e: Event) {
    e.preventDefault();
    if (!dismissing) return;
    const reason = String(new FormData(e.currentTarget as HTMLFormElement).get("reason") ?? "");
    try {
      await props.api.dismiss(dismissing.conversation_id, reason);
      setNotice(`Dismissed ${shortId(dismissing.conversation_id)}`);
      setDismissing(null);
      await load();
      tableRef.current?.focus();
    } catch (err) {
      setNotice(err instanceof ApiError ? `Dismiss failed: ${err.message}` : String(err));
    }
  }

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "j") setSelected((s) => Math.min(s + 1, items.length - 1));
      else if (e.key === "k") setSelected((s) => Math.max(s - 1, 0));
      else if (e.key === "Enter" && current) go(`#/item/${current.conversation_id}`);
      else if (e.key === "r" && current) void retry(current);
      else if (e.key === "d" && current) setDismissing(current);
      else return;
      e.preventDefault();
    }
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  });

  function applyFilters(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setCursors([]);
    setSelected(0);
    setFilters({
      status: String(f.get("status")),
      error: String(f.get("error") ?? ""),
      since: String(f.get("since") ?? ""),
      source: String(f.get("source")),
    });
  }

  return html`
    <main id="main">
      <h1>Review queue</h1>
      <form class="filters" onSubmit=${applyFilters} aria-label="Filters">
        <label>Status <select name="status" value=${filters.status}>
          ${["all", "failed", "partial", "dismissed"].map((s) => html`<option value=${s}>${s}</option>`)}
        </select></label>
        <label>Error text <input name="error" type="search" value=${filters.error} maxlength="200" /></label>
        <label>Since <input name="since" type="datetime-local" value=${filters.since} /></label>
        <label>Source <select name="source" value=${filters.source}>
          ${["any", "generated", "uploaded", "recovered", "manual"].map((s) =>
            html`<option value=${s}>${s}</option>`
          )}
        </select></label>
        <button type="submit">Apply</button>
      </form>
      <p class="meta" aria-live="polite">
        <span data-testid="total">${page
          ? `${page.total} item${page.total === 1 ? "" : "s"}`
          : "Loading…"}</span>
        ${props.reviewer ? " · every user's items (reviewer)" : " · your items"}
        ${updated && html`
          · updated ${updated}
        `}
        <button type="button" class="link" onClick=${() => load()}>Refresh</button>
      </p>
      <p class="hint">Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> open, <kbd>r</kbd> retry, <kbd>d</kbd> dismiss</p>
      ${error && html`<p role="alert" class="error">${error}</p>`}
      ${notice && html`<p role="status" class="notice">${notice}</p>`}
      ${dismissing && html`
        <form class="dismiss" onSubmit=${dismiss} aria-label="Dismiss item">
          <label for="queue-reason">Reason to dismiss ${shortId(dismissing.conversation_id)}</label>
          <input id="queue-reason" name="reason" required maxlength="500" autofocus />
          <button type="submit">Dismiss</button>
          <button type="button" onClick=${() => setDismissing(null)}>Cancel</button>
        </form>
      `}
      <table ref=${tableRef} tabindex="0" aria-label="Items waiting for review" class="queue">
        <thead><tr>
          <th scope="col">Item</th><th scope="col">Kind</th><th scope="col">Error</th>
          <th scope="col">Source</th><th scope="col">Attempts</th><th scope="col">Created (UTC)</th>
        </tr></thead>
        <tbody>
          ${items.map((it, i) =>
            html`
              <tr key=${it.conversation_id} aria-selected=${i === selected ? "true" : "false"}
                class=${i === selected ? "selected" : ""} data-id=${it.conversation_id}
                onClick=${() => setSelected(i)}>
                <td><a href=${`#/item/${it.conversation_id}`}>${shortId(it.conversation_id)}</a></td>
                <td><span class=${`badge ${it.kind}`}>${it.dismissed_at ? "dismissed" : it.kind}</span></td>
                <td class="err">${it.parse_error_message ?? ""}</td>
                <td>${it.source ?? ""}</td>
                <td>${it.parse_attempts}</td>
                <td>${when(it.created_at)}</td>
              </tr>
            `
          )}
          ${page && items.length === 0 && html`
            <tr>
              <td colspan="6">Nothing waits for review with these filters.</td>
            </tr>
          `}
        </tbody>
      </table>
      <nav class="pages" aria-label="Pages">
        <button type="button" disabled=${cursors.length === 0} onClick=${() =>
          setCursors(cursors.slice(0, -1))}>
          Previous page</button>
        <button type="button" disabled=${!page?.next_cursor}
          onClick=${() => page?.next_cursor && setCursors([...cursors, page.next_cursor])}>Next page</button>
      </nav>
    </main>
  `;
}
