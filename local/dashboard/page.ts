// The dashboard page: one self-contained HTML document (no build step, no CDN: it must work offline).
// It renders /api/status and then follows /api/stream (SSE) for live updates.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Aviary — local</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
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
  .UP, .OK, .on { background: var(--ok); } .ALARM, .DOWN, .off { background: var(--bad); }
  .bar { height: 22px; display: flex; border-radius: 4px; overflow: hidden; background: #e5e7eb; }
  .bar div { color: #fff; font-size: 12px; padding: 2px 6px; white-space: nowrap; }
  .muted { color: var(--muted); }
  button { cursor: pointer; border: 1px solid #d1d5db; background: #fff; border-radius: 6px; padding: 2px 10px; }
  canvas { width: 100%; height: 180px; }
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
    <p id="routing" data-testid="routing"></p>
  </section>
  <section>
    <h2>Backends</h2>
    <table data-testid="backends"><thead><tr><th>id</th><th>role</th><th>version</th><th>address</th><th>proxy</th></tr></thead><tbody></tbody></table>
    <p id="fleet" class="muted"></p>
  </section>
  <section>
    <h2>Feature flags</h2>
    <table data-testid="flags"><thead><tr><th>flag</th><th>state</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Alarms</h2>
    <table data-testid="alarms"><thead><tr><th>alarm</th><th>state</th><th>value / threshold</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Requests per second (prod, canary) and canary 5xx rate</h2>
    <canvas id="chart" width="1200" height="180"></canvas>
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

function render(s) {
  last = s;
  $("#proxy").textContent = "proxy " + s.proxyUrl + " · prod " + s.versions.prod + " · canary " + s.versions.canary;
  $("#updated").textContent = "updated " + time(s.at);
  const pct = s.split.canaryPct;
  const canaryPct = pct === null ? 0 : pct;
  $("#split-prod").style.width = (100 - canaryPct) + "%";
  $("#split-prod").textContent = "prod " + (pct === null ? "–" : (100 - pct).toFixed(1) + "%");
  $("#split-canary").style.width = canaryPct + "%";
  $("#split-canary").textContent = canaryPct > 4 ? "canary " + pct.toFixed(1) + "%" : "";
  const r = s.routing;
  $("#routing").innerHTML = r
    ? "Configured: canary weight <b>" + r.canaryWeight + "%</b>, " + (r.canaryEnabled ? '<span class="pill on">enabled</span>' : '<span class="pill off">disabled</span>') +
      " by " + esc(r.changedBy) + (r.reason ? " — " + esc(r.reason) : "") + ' <span class="muted">(' + s.split.prod + " prod / " + s.split.canary + " canary requests in the last " + s.split.windowSeconds + " s)</span>"
    : '<span class="pill off">routing state unreadable</span>';
  $("[data-testid=backends] tbody").innerHTML = s.backends.map((b) =>
    '<tr data-backend="' + esc(b.id) + '"><td>' + esc(b.id) + '</td><td><span class="pill ' + b.role + '">' + b.role + "</span></td><td>" + esc(b.version) +
    "</td><td>" + esc(b.address) + '</td><td><span class="pill ' + esc(b.proxyStatus) + '">' + esc(b.proxyStatus) + "</span>" + (b.draining ? " draining" : "") + "</td></tr>").join("");
  $("#fleet").textContent = "Production fleet: " + s.fleet.instances.length + " running, desired " + s.fleet.desired + " (min " + s.fleet.min + ", max " + s.fleet.max + ")";
  $("[data-testid=flags] tbody").innerHTML = s.flags.map((f) =>
    '<tr data-flag="' + esc(f.key) + '" data-killed="' + f.killed + '"><td><b>' + esc(f.key) + '</b><br><span class="muted">' + esc(f.description) + "</span></td><td>" +
    (f.killed ? '<span class="pill off">KILLED</span> ' : "") + esc(f.summary) + "</td><td>" + flagAction(f) + "</td></tr>").join("");
  $("[data-testid=alarms] tbody").innerHTML = s.alarms.map((a) =>
    '<tr data-alarm="' + esc(a.key) + '"><td>' + esc(a.key) + '</td><td><span class="pill ' + a.state + '">' + a.state + "</span></td><td>" +
    (a.lastValue === undefined ? "–" : Number(a.lastValue).toFixed(1)) + " / " + a.threshold + "</td></tr>").join("");
  $("[data-testid=events]").innerHTML = s.events.slice().reverse().map((e) =>
    "<li>" + time(e.at) + " <b>" + esc(e.kind) + "</b> by " + esc(e.by) + (e.reason ? " — " + esc(e.reason) : "") + ' <span class="muted">' +
    esc(Object.entries(e.detail).map(([k, v]) => k + "=" + v).join(" ")) + "</span></li>").join("");
  renderActions(s.activity);
  drawChart(s.history);
}

// One button per flag, as the status decided: a killed flag offers only its un-kill.
function flagAction(f) {
  if (!f.action) return "";
  if (f.action.kind === "unkill") return '<button data-unkill="' + esc(f.key) + '">' + esc(f.action.label) + "</button>";
  return '<button data-toggle="' + esc(f.key) + '" data-on="' + f.action.on + '">' + esc(f.action.label) + "</button>";
}

function renderActions(items) {
  $("[data-testid=actions]").innerHTML = items.slice().reverse().map((a) =>
    '<li data-kind="' + esc(a.kind) + '">' + time(a.at) + " <b>" + esc(a.title) + "</b> " + esc(a.text) + "</li>").join("");
}

function drawChart(points) {
  const c = $("#chart"), g = c.getContext("2d"), w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  if (points.length < 2) return;
  const t0 = points[0].at, t1 = points[points.length - 1].at;
  const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * (w - 40) + 30;
  const dt = (i) => i === 0 ? 1 : Math.max(0.001, (points[i].at - points[i - 1].at) / 1000);
  const rate = (i, role) => points[i][role].requests / dt(i);
  const maxRate = Math.max(1, ...points.map((p, i) => rate(i, "prod") + rate(i, "canary")));
  const line = (color, f, max) => {
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    points.forEach((p, i) => { const v = f(i); const y = h - 10 - (v / max) * (h - 30); i ? g.lineTo(x(p.at), y) : g.moveTo(x(p.at), y); });
    g.stroke();
  };
  line("#2563eb", (i) => rate(i, "prod"), maxRate);
  line("#d97706", (i) => rate(i, "canary"), maxRate);
  line("#dc2626", (i) => points[i].canaryErrorRatePct ?? 0, 100);
  g.fillStyle = "#6b7280"; g.font = "12px system-ui";
  g.fillText(maxRate.toFixed(0) + " req/s", 2, 14);
  g.fillText("red: canary 5xx % (0–100)", w - 190, 14);
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
  render(await (await fetch("/api/status")).json());
});

fetch("/api/status").then((r) => r.json()).then(render);
const stream = new EventSource("/api/stream");
stream.addEventListener("status", (e) => render(JSON.parse(e.data)));
stream.addEventListener("activity", (e) => { if (last) { last.activity.push(JSON.parse(e.data)); renderActions(last.activity); } });
</script>
</body>
</html>
`;
