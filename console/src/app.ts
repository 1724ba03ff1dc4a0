/**
 * The shell: the session (supabase-js keeps and refreshes it), the hash router (#/queue, #/item/<id>,
 * #/health) and the navigation. One module per view under views/.
 */
import { type ConsoleConfig, createReviewApi } from "./api.ts";
import { html, type Session, type SupabaseClient, useEffect, useMemo, useState } from "./deps.ts";
import { HealthView } from "./views/health.ts";
import { Item } from "./views/item.ts";
import { Queue } from "./views/queue.ts";
import { SignIn } from "./views/sign_in.ts";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

export function App(props: { config: ConsoleConfig; auth: SupabaseClient }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const hash = useHash();
  const api = useMemo(() => createReviewApi(props.config, props.auth), [props.config, props.auth]);
  useEffect(() => {
    props.auth.auth.getSession().then(({ data }) => setSession(data.session));
    const { data } = props.auth.auth.onAuthStateChange((_event, s) => setSession(s));
    return () => data.subscription.unsubscribe();
  }, []);
  useEffect(() => {
    document.title = `${
      hash.startsWith("#/health") ? "Health" : hash.startsWith("#/item/") ? "Item" : "Queue"
    } · Review console`;
  }, [hash]);

  if (session === undefined) {
    return html`
      <main id="main">
        <p>Loading…</p>
      </main>
    `;
  }
  if (session === null) return html`<${SignIn} auth=${props.auth} />`;
  const reviewer = session.user.app_metadata?.role === "reviewer";
  const item = /^#\/item\/([0-9a-f-]{36})$/i.exec(hash);
  const view = item
    ? html`<${Item} api=${api} id=${item[1].toLowerCase()} />`
    : hash.startsWith("#/health")
    ? html`<${HealthView} api=${api} />`
    : html`<${Queue} api=${api} reviewer=${reviewer} />`;
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => {
      e.preventDefault();
      document.getElementById("main")?.focus();
    }}>Skip to content</a>
    <header class="top">
      <nav aria-label="Console">
        <a href="#/queue" aria-current=${!item && !hash.startsWith("#/health") ? "page" : undefined}>Queue</a>
        ${reviewer &&
          html`<a href="#/health" aria-current=${
            hash.startsWith("#/health") ? "page" : undefined
          }>Health</a>`}
      </nav>
      <p class="who">${session.user.email}${reviewer
        ? html`
          <span class="badge reviewer">reviewer</span>
        `
        : ""}
        <button type="button" class="link" onClick=${() => props.auth.auth.signOut()}>Sign out</button></p>
    </header>
    ${view}
  `;
}
