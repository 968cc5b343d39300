// The dashboard page: one HTML document plus uPlot, served by the dashboard itself (no build step,
// no CDN: it must work offline). Every panel renders from one /api/status snapshot at a time, from
// the first fetch or the live stream (SSE); an older snapshot never replaces a newer one.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Aviary — local</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/vendor/uplot.css">
<script src="/vendor/uplot.js"></script>
<style>
  :root { --prod: #2563eb; --canary: #d97706; --bad: #dc2626; --ok: #16a34a; --muted: #6b7280; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f8fafc; color: #111827; }
  header { padding: 12px 20px; background: #111827; color: #fff; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: #d1d5db; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 20px; }
  section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px; }
  section h2 { font-size: 15px; margin: 0 0 8px; }
  table { width: 100%; border-collapse: collapse; }
  td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid #f1f5f9; vertical-align: top; }
  th { color: var(--muted); font-weight: 500; }
  .pill { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; color: #fff; background: var(--muted); }
  .prod { background: var(--prod); } .canary { background: var(--canary); }
  .UP, .OK, .on, .ok { background: var(--ok); } .ALARM, .DOWN, .off, .alarm { background: var(--bad); } .info, .unknown { background: var(--muted); }
  .bar { height: 22px; display: flex; border-radius: 4px; overflow: hidden; background: #e5e7eb; }
  .bar div { color: #fff; font-size: 12px; padding: 2px 6px; white-space: nowrap; }
  .muted { color: var(--muted); }
  button { cursor: pointer; border: 1px solid #d1d5db; background: #fff; border-radius: 6px; padding: 2px 10px; }
  .chart { min-height: 200px; }
  .wide { grid-column: 1 / -1; }
  ol { margin: 0; padding-left: 18px; max-height: 260px; overflow: auto; }
  li { margin: 2px 0; }
</style>
</head>
<body>
<header><h1>Aviary local stack</h1><span id="proxy"></span><span id="updated" class="muted"></span></header>
<main>
  <section>
    <h2>Traffic split</h2>
    <div class="bar" data-testid="split"><div id="split-prod" class="prod"></div><div id="split-canary" class="canary"></div></div>
    <p id="split-note" class="muted" data-testid="split-note"></p>
    <p id="routing" data-testid="routing"></p>
  </section>
  <section>
    <h2>Backends</h2>
    <table data-testid="backends"><thead><tr><th>id</th><th>role</th><th>version</th><th>address</th><th>proxy (weight)</th></tr></thead><tbody></tbody></table>
    <p id="fleet" class="muted"></p>
  </section>
  <section>
    <h2>Feature flags</h2>
    <table data-testid="flags"><thead><tr><th>flag</th><th>state</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Alarms</h2>
    <table data-testid="alarms"><thead><tr><th>alarm</th><th>state</th><th>latest / threshold</th><th>why this state</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Requests per second by role</h2>
    <div class="chart" id="chart-requests" data-testid="chart-requests"></div>
  </section>
  <section>
    <h2>Canary 5xx rate and its alarm threshold</h2>
    <div class="chart" id="chart-errors" data-testid="chart-errors"></div>
  </section>
  <section>
    <h2>Canary p99 latency and its alarm threshold</h2>
    <div class="chart" id="chart-latency" data-testid="chart-latency"></div>
  </section>
  <section>
    <h2>Controller actions and alerts</h2>
    <ol data-testid="actions"></ol>
  </section>
  <section>
    <h2>Event stream (Redis)</h2>
    <ol data-testid="events"></ol>
  </section>
</main>
<script>
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const time = (iso) => new Date(iso).toLocaleTimeString();
let last;

// The only way a snapshot reaches the panels: an older one (a slow fetch, a late stream event) is dropped.
function apply(s) {
  if (last && s.snapshot <= last.snapshot) return;
  render(s);
}

function render(s) {
  last = s;
  document.body.dataset.snapshot = s.snapshot;
  $("#proxy").textContent = "proxy " + s.proxyUrl + " · prod " + s.versions.prod + " · canary " + s.versions.canary;
  $("#updated").textContent = "updated " + time(s.at);
  const sp = s.split, pct = sp.canaryPct, canaryPct = pct === null ? 0 : pct;
  const bar = $("[data-testid=split]");
  bar.dataset.canaryPct = pct === null ? "" : pct.toFixed(1);
  bar.dataset.effectiveWeight = sp.effectiveWeight ?? "";
  $("#split-prod").style.width = (100 - canaryPct) + "%";
  $("#split-prod").textContent = "prod " + (pct === null ? "–" : (100 - pct).toFixed(1) + "%");
  $("#split-canary").style.width = canaryPct + "%";
  $("#split-canary").textContent = canaryPct > 4 ? "canary " + pct.toFixed(1) + "%" : "";
  $("#split-note").textContent = "Measured: " + sp.prod + " prod / " + sp.canary + " canary requests in the " + sp.windowSeconds + " s since " + time(sp.since) +
    " (the last 10 s, or since the last routing change if later)." + (sp.effectiveWeight === null ? "" : " Routing asks for " + sp.effectiveWeight + "% canary.");
  const r = s.routing;
  const routing = $("#routing");
  routing.dataset.canaryEnabled = r ? String(r.canaryEnabled) : "";
  routing.innerHTML = r
    ? "Canary " + (r.canaryEnabled ? '<span class="pill on">enabled</span>' : '<span class="pill off">disabled</span>') + ", weight <b>" + r.canaryWeight + "%</b>" +
      (r.canaryEnabled ? "" : " (kept for a re-enable)") + ", changed " + time(r.changedAt) + " by " + esc(r.changedBy) + (r.reason ? " — " + esc(r.reason) : "")
    : '<span class="pill off">routing state unreadable</span>';
  $("[data-testid=backends] tbody").innerHTML = s.backends.map((b) =>
    '<tr data-backend="' + esc(b.id) + '" data-role="' + esc(b.role) + '" data-proxy-status="' + esc(b.proxyStatus) + '" data-proxy-weight="' + (b.proxyWeight ?? "") + '"><td>' + esc(b.id) + '</td><td><span class="pill ' + esc(b.role) + '">' + esc(b.role) + "</span></td><td>" + esc(b.version) +
    "</td><td>" + esc(b.address) + '</td><td><span class="pill ' + esc(b.proxyStatus) + '">' + esc(b.proxyStatus) + "</span>" +
    (b.proxyStatus === "UP" && b.proxyWeight !== null && b.proxyWeight > 0 ? " weight " + b.proxyWeight : " no new traffic") + (b.draining ? " draining" : "") + "</td></tr>").join("");
  $("#fleet").textContent = "Production fleet: " + s.fleet.instances.length + " running, desired " + s.fleet.desired + " (min " + s.fleet.min + ", max " + s.fleet.max + ")";
  $("[data-testid=flags] tbody").innerHTML = s.flags.map((f) =>
    '<tr data-flag="' + esc(f.key) + '" data-killed="' + f.killed + '"><td><b>' + esc(f.key) + '</b><br><span class="muted">' + esc(f.description) + "</span></td><td>" +
    (f.killed ? '<span class="pill off">KILLED</span> ' : "") + esc(f.summary) + "</td><td>" + flagAction(f) + "</td></tr>").join("");
  $("[data-testid=alarms] tbody").innerHTML = s.alarms.map((a) =>
    '<tr data-alarm="' + esc(a.key) + '" data-state="' + esc(a.state) + '" data-tone="' + esc(a.tone) + '"><td>' + esc(a.key) + '</td><td><span class="pill ' + esc(a.tone) + '">' + esc(a.state) + "</span>" +
    (a.note ? '<br><span class="muted">' + esc(a.note) + "</span>" : "") + "</td><td>" +
    (a.lastValue === undefined ? "–" : Number(a.lastValue).toFixed(1)) + " " + esc(a.comparison) + " " + a.threshold + '</td><td class="muted">' + esc(a.decidedBy) + "</td></tr>").join("");
  $("[data-testid=events]").innerHTML = s.events.slice().reverse().map((e) =>
    "<li>" + time(e.at) + " <b>" + esc(e.kind) + "</b> by " + esc(e.by) + (e.reason ? " — " + esc(e.reason) : "") + ' <span class="muted">' +
    esc(Object.entries(e.detail).map(([k, v]) => k + "=" + v).join(" ")) + "</span></li>").join("");
  $("[data-testid=actions]").innerHTML = s.activity.slice().reverse().map((a) =>
    '<li data-kind="' + esc(a.kind) + '">' + time(a.at) + " <b>" + esc(a.title) + "</b> " + esc(a.text) + "</li>").join("");
  drawCharts(s.chart);
}

// One button per flag, as the status decided: a killed flag offers only its un-kill.
function flagAction(f) {
  if (!f.action) return "";
  if (f.action.kind === "unkill") return '<button data-unkill="' + esc(f.key) + '">' + esc(f.action.label) + "</button>";
  return '<button data-toggle="' + esc(f.key) + '" data-on="' + f.action.on + '">' + esc(f.action.label) + "</button>";
}

// Time-axis charts (uPlot): x is seconds since the epoch, shown in local time; thresholds are series.
const charts = {};
window.aviaryCharts = charts;
function chart(id, series, data) {
  const el = document.getElementById(id);
  if (!charts[id]) {
    charts[id] = new uPlot({
      width: Math.max(300, el.clientWidth), height: 180,
      scales: { x: { time: true } },
      series: [{ label: "time" }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: s.dash ? 1.5 : 2, dash: s.dash, spanGaps: false }))],
      axes: [{ label: "local time" }, { label: series[0].unit }],
    }, data, el);
  } else {
    charts[id].setData(data);
  }
}
function drawCharts(c) {
  const flat = (v) => c.t.map(() => v);
  chart("chart-requests", [{ label: "prod req/s", color: "#2563eb", unit: "requests / s" }, { label: "canary req/s", color: "#d97706", unit: "requests / s" }], [c.t, c.prodRps, c.canaryRps]);
  chart("chart-errors", [{ label: "canary 5xx %", color: "#dc2626", unit: "%" }, { label: "alarm threshold " + c.thresholds.canary5xxPct + " %", color: "#111827", dash: [6, 4] }],
    [c.t, c.canary5xxPct, flat(c.thresholds.canary5xxPct)]);
  chart("chart-latency", [{ label: "canary p99 ms", color: "#7c3aed", unit: "ms" }, { label: "alarm threshold " + c.thresholds.canaryP99Ms + " ms", color: "#111827", dash: [6, 4] }],
    [c.t, c.canaryP99Ms, flat(c.thresholds.canaryP99Ms)]);
}

document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-toggle], button[data-unkill]");
  if (!b) return;
  b.disabled = true;
  const request = b.dataset.unkill !== undefined
    ? ["/api/flags/" + encodeURIComponent(b.dataset.unkill) + "/unkill", {}]
    : ["/api/flags/" + encodeURIComponent(b.dataset.toggle), { on: b.dataset.on === "true" }];
  const res = await fetch(request[0], { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request[1]) });
  if (!res.ok) alert((await res.json()).error);
  apply(await (await fetch("/api/status")).json());
});

fetch("/api/status").then((r) => r.json()).then(apply);
const stream = new EventSource("/api/stream");
stream.addEventListener("status", (e) => apply(JSON.parse(e.data)));
</script>
</body>
</html>
`;
