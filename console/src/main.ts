/** Entry: read config.json, make the Auth client, render the app into #app. */
import { createAuthClient, loadConfig } from "./api.ts";
import { App } from "./app.ts";
import { html, render } from "./deps.ts";

const root = document.getElementById("app")!;
try {
  const config = await loadConfig();
  root.textContent = ""; // the static "Loading…" line: Preact renders into the element, it does not replace it
  render(html`<${App} config=${config} auth=${createAuthClient(config)} />`, root);
} catch (e) {
  root.textContent = e instanceof Error ? e.message : String(e);
}
