/**
 * The pipeline's health (reviewers): the monitor's rules with state and threshold, open and past alerts, the
 * hourly parse-success rate and storage growth as charts, and the counts per status and per source. Read from
 * `GET /review-queue/health` (the monitor's dry run), never with a service key.
 */
import { ApiError, type Health, type ReviewApi } from "../api.ts";
import { LineChart } from "../chart.ts";
import { when } from "../format.ts";
import { html, useEffect, useState } from "../deps.ts";

export function HealthView(props: { api: ReviewApi }) {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    props.api.health().then(setHealth).catch((e) =>
      setError(e instanceof ApiError && e.status === 403 ? "The health page is for reviewers." : String(e))
    );
  }, []);
  if (error) {
    return html`
      <main id="main">
        <h1>Health</h1>
        <p role="alert" class="error">${error}</p>
      </main>
    `;
  }
  if (!health) {
    return html`
      <main id="main">
        <h1>Health</h1>
        <p>Loading…</p>
      </main>
    `;
  }
  const x = health.hourly.map((h) => Math.floor(Date.parse(h.hour) / 1000));
  const success = health.hourly.map((h) =>
    h.total > 0 ? Math.round(((h.total - h.failed) / h.total) * 1000) / 10 : null
  );
  const growth = health.hourly.map((h) => h.mb_per_hour);
  const alertRows = (rows: Health["alerts"]["open"]) =>
    rows.length === 0 ? html`<p>None.</p>` : html`<ul>${
      rows.map((a) =>
        html`<li>
      <strong>${a.rule}</strong> (${a.severity}) fired ${when(a.fired_at)}${
          a.resolved_at ? `, resolved ${when(a.resolved_at)}` : ""
        };
      peak ${a.peak_value} vs threshold ${a.threshold}</li>`
      )
    }</ul>`;
  return html`
    <main id="main" class="health">
      <h1>Health <span class=${`badge ${health.status}`}>${health.status}</span></h1>
      <p class="meta">Checked ${when(
        health.checked_at,
      )} UTC (a dry run of the monitor: nothing recorded or sent).</p>
      <section aria-labelledby="charts-h">
        <h2 id="charts-h">Last 24 hours</h2>
        <div class="charts">
          <${LineChart} id="chart-success" label="Parse success per hour" unit="%" x=${x} y=${success} />
          <${LineChart} id="chart-growth" label="Raw storage growth per hour" unit="MB" x=${x}
            y=${growth} />
        </div>
      </section>
      <section aria-labelledby="rules-h">
        <h2 id="rules-h">Rules</h2>
        <table class="rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">State</th>
              <th scope="col">Value</th>
              <th scope="col">Threshold</th>
              <th scope="col">Severity</th>
            </tr>
          </thead>
          <tbody>${health.rules.map((r) =>
            html`
              <tr data-rule=${r.rule}>
                <td title=${r.rule}>${r.title}</td>
                <td><span class=${`badge ${r.state}`}>${r.state}</span></td>
                <td>${r.value ?? "—"}</td>
                <td>${r.threshold ?? "—"} ${r.unit}</td>
                <td>${r.severity}</td>
              </tr>
            `
          )}</tbody>
        </table>
      </section>
      <section aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts</h2>
        <h3>Open</h3>${alertRows(health.alerts.open)}
        <h3>Past</h3>${alertRows(health.alerts.past)}
      </section>
      <section aria-labelledby="counts-h">
        <h2 id="counts-h">Counts</h2>
        <div class="counts">
          <table aria-label="Conversations per status">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Count</th>
              </tr>
            </thead>
            <tbody>${Object.entries(health.status_counts).map(([s, n]) =>
              html`
                <tr>
                  <td>${s}</td>
                  <td>${n}</td>
                </tr>
              `
            )}</tbody>
          </table>
          <table aria-label="Conversations per source">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Status</th>
                <th scope="col">Count</th>
                <th scope="col">In review</th>
              </tr>
            </thead>
            <tbody>${health.source_counts.map((c) =>
              html`
                <tr>
                  <td>${c.source}</td>
                  <td>${c.status}</td>
                  <td>${c.count}</td>
                  <td>${c.in_review}</td>
                </tr>
              `
            )}</tbody>
          </table>
        </div>
      </section>
    </main>
  `;
}
