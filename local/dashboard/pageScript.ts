// The dashboard page's script (served as /page.js, never inline, so the page's CSP needs no
// 'unsafe-inline'). Every panel renders from one /api/status snapshot at a time, from the first
// fetch or the live stream (SSE); an older snapshot never replaces a newer one.
export const PAGE_SCRIPT = `const $ = (s) => document.querySelector(s);
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
    (f.killed ? '<span class="pill off">KILLED</span> ' : "") + esc(f.summary) + flagRules(f) + flagJson(f) + "</td><td>" + flagAction(f) + "</td></tr>").join("");
  $("[data-testid=segments] tbody").innerHTML = s.segments.map((g) =>
    '<tr data-segment="' + esc(g.name) + '"><td><b>' + esc(g.name) + '</b><br><span class="muted">' + esc(g.description) + '</span></td><td class="in-words">' + esc(g.inWords) +
    "</td><td>" + g.included + (g.excluded > 0 ? ' <span class="muted">(' + g.excluded + " excluded)</span>" : "") + "</td><td>" + esc(g.usedBy.join(", ")) + "</td></tr>").join("");
  $("[data-testid=alarms] tbody").innerHTML = s.alarms.map((a) =>
    '<tr data-alarm="' + esc(a.key) + '" data-state="' + esc(a.state) + '" data-tone="' + esc(a.tone) + '"><td>' + esc(a.key) + '</td><td><span class="pill ' + esc(a.tone) + '">' + esc(a.state) + "</span>" +
    (a.note ? '<br><span class="muted">' + esc(a.note) + "</span>" : "") + "</td><td>" +
    (a.lastValue === undefined ? "–" : Number(a.lastValue).toFixed(1)) + " " + esc(a.comparison) + " " + a.threshold + '</td><td class="muted">' + esc(a.decidedBy) + "</td></tr>").join("");
  $("[data-testid=events]").innerHTML = s.events.slice().reverse().map((e) =>
    "<li>" + time(e.at) + " <b>" + esc(e.kind) + "</b> by " + esc(e.by) + (e.reason ? " — " + esc(e.reason) : "") + ' <span class="muted">' +
    esc(Object.entries(e.detail).map(([k, v]) => k + "=" + v).join(" ")) + "</span></li>").join("");
  $("[data-testid=actions]").innerHTML = s.activity.slice().reverse().map((a) =>
    '<li data-kind="' + esc(a.kind) + '">' + time(a.at) + " <b>" + esc(a.title) + "</b> " + esc(a.text) + "</li>").join("");
  renderRollout(s.rollout);
  drawCharts(s.chart, s.fleet);
}

// The rollout panel, only while a rollout is stored: the steps as a timeline, the current one's
// time left, and each verdict with the numbers the judge used.
const percent = (v) => Number(v).toFixed(2) + " %";
function verdictHtml(v) {
  return '<div class="verdict" data-verdict="' + esc(v.verdict) + '"><span class="pill ' + esc(v.verdict) + '">' + esc(v.verdict) + "</span> by " + esc(v.judgedBy) + " at " + time(v.at) +
    "<table><tr><td>5xx</td><td>canary <b>" + percent(v.canary5xx.ratePercent) + "</b> (" + v.canary5xx.errors5xx + "/" + v.canary5xx.requests + ")</td><td>production <b>" + percent(v.production5xx.ratePercent) +
    "</b> (" + v.production5xx.errors5xx + "/" + v.production5xx.requests + ")</td><td>" + (v.differencePoints >= 0 ? "+" : "") + Number(v.differencePoints).toFixed(2) + " pts (allowed " + v.allowedPoints + ")</td></tr>" +
    "<tr><td>" + esc(v.quantileLabel) + "</td><td>canary <b>" + esc(v.canaryLatency) + "</b></td><td>production <b>" + esc(v.productionLatency) + "</b></td><td></td></tr></table>" +
    '<div class="muted">' + esc(v.errorRateReason) + "<br>" + esc(v.latencyReason) + "</div></div>";
}
function renderRollout(r) {
  const panel = $("[data-testid=rollout]");
  panel.hidden = !r;
  if (!r) return;
  panel.dataset.status = r.kind === "rollout" ? r.status : "unreadable";
  if (r.kind === "unreadable") {
    $("#rollout-summary").innerHTML = '<span class="pill alarm">rollout state unreadable</span> ' + esc(r.problems.join("; ")) + " (no traffic is moved by it)";
    $("[data-testid=rollout-steps]").innerHTML = "";
    return;
  }
  const cur = r.steps[r.step];
  $("#rollout-summary").innerHTML = '<span class="pill ' + esc(r.status) + '">' + esc(r.status) + "</span> <b>" + esc(r.appVersion) + '</b> <span class="muted">' + esc(r.id) + "</span> · step " + (r.step + 1) + " of " + r.steps.length +
    (cur ? " at " + cur.weight + "%" : "") + (r.secondsLeft === null ? "" : ' · <span data-testid="rollout-time-left" data-seconds-left="' + r.secondsLeft + '">' + r.secondsLeft + " s left</span> (until " + time(r.stepEndsAt) + ")") +
    (r.autoPromote ? " · promotes by itself" : " · promotion by a person") + (r.reason ? " — " + esc(r.reason) : "") + ' <span class="muted">(' + esc(r.updatedBy) + ", " + time(r.updatedAt) + ")</span>";
  $("[data-testid=rollout-steps]").innerHTML = r.steps.map((st) =>
    '<li class="' + st.phase + '" data-step="' + st.index + '" data-phase="' + st.phase + '"><b>Step ' + (st.index + 1) + "</b> · " + st.weight + "% · pause " + st.pauseSeconds + " s" +
    (st.phase === "current" ? ' <span class="pill ' + esc(r.status) + '">' + esc(r.status) + "</span>" + (r.secondsLeft === null ? "" : " " + r.secondsLeft + " s left") : "") + st.verdicts.map(verdictHtml).join("") + "</li>").join("");
}

// A flag's rules in words, in the order they are tried, and an object flag's values as read-only
// JSON (escaped: a value is data, never markup).
function flagRules(f) {
  if (f.rules.length === 0) return "";
  return '<ol class="rules" data-testid="flag-rules">' + f.rules.map((r) => "<li>" + esc(r) + "</li>").join("") + "</ol>";
}
function flagJson(f) {
  if (!f.json) return "";
  return f.json.map((j) => '<div class="muted">' + esc(j.variant) + '</div><pre class="json" data-testid="flag-json" data-variant="' + esc(j.variant) + '">' + esc(j.text) + "</pre>").join("");
}

// One button per flag, as the status decided: a killed flag offers only its un-kill.
function flagAction(f) {
  if (!f.action) return "";
  if (f.action.kind === "unkill") return '<button data-unkill="' + esc(f.key) + '">' + esc(f.action.label) + "</button>";
  return '<button data-toggle="' + esc(f.key) + '" data-on="' + f.action.on + '">' + esc(f.action.label) + "</button>";
}

// Time-axis charts (uPlot): x is seconds since the epoch, shown in local time; thresholds are
// dashed series; event markers are vertical lines laid over the plot (hover one for what happened).
const charts = {};
window.aviaryCharts = charts;
function placeMarkers(u) {
  let layer = u.over.querySelector(".markers");
  if (!layer) {
    layer = document.createElement("div");
    layer.className = "markers";
    u.over.appendChild(layer);
  }
  const { min, max } = u.scales.x;
  layer.replaceChildren(...(u.aviaryMarkers || []).filter((m) => m.t >= min && m.t <= max).map((m) => {
    const el = document.createElement("div");
    el.className = "marker " + m.kind;
    el.dataset.kind = m.kind;
    el.dataset.t = String(m.t);
    el.title = time(m.t * 1000) + " " + m.label;
    el.style.left = u.valToPos(m.t, "x") + "px";
    return el;
  }));
}
function chart(id, opts, series, data, markers) {
  const el = document.getElementById(id);
  if (!charts[id]) {
    charts[id] = new uPlot({
      width: Math.max(300, el.clientWidth), height: 180,
      scales: { x: { time: true }, y: opts.y ? { range: opts.y } : {} },
      series: [{ label: "time" }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: s.dash ? 1.5 : 2, dash: s.dash, spanGaps: false, ...(s.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}) }))],
      axes: [{ label: "local time" }, { label: opts.unit }],
      hooks: { draw: [placeMarkers] },
    }, data, el);
    charts[id].aviaryMarkers = markers;
    placeMarkers(charts[id]);
    return;
  }
  charts[id].aviaryMarkers = markers;
  charts[id].setData(data);
}
const THRESHOLD = { color: "#111827", dash: [6, 4] };
function drawCharts(c, fleet) {
  const flat = (v) => c.t.map(() => v);
  const m = c.markers;
  chart("chart-split", { unit: "% of requests", y: [0, 100] }, [{ label: "canary share measured %", color: "#d97706" }, { label: "canary weight asked %", color: "#7c3aed", stepped: true }],
    [c.t, c.canarySharePct, c.askedWeightPct], m);
  chart("chart-errors", { unit: "% 5xx" }, [{ label: "canary 5xx %", color: "#dc2626" }, { label: "production 5xx %", color: "#2563eb" }, { label: "alarm threshold " + c.thresholds.canary5xxPct + " %", ...THRESHOLD }],
    [c.t, c.canary5xxPct, c.prod5xxPct, flat(c.thresholds.canary5xxPct)], m);
  chart("chart-latency", { unit: "ms" }, [{ label: "canary p99 ms", color: "#d97706" }, { label: "production p99 ms", color: "#2563eb" }, { label: "alarm threshold " + c.thresholds.canaryP99Ms + " ms", ...THRESHOLD }],
    [c.t, c.canaryP99Ms, c.prodP99Ms, flat(c.thresholds.canaryP99Ms)], m);
  chart("chart-requests", { unit: "requests / s" }, [{ label: "prod req/s", color: "#2563eb" }, { label: "canary req/s", color: "#d97706" }], [c.t, c.prodRps, c.canaryRps], m);
  chart("chart-fleet", { unit: "instances" }, [{ label: "fleet size", color: "#16a34a", stepped: true }, { label: "min " + fleet.min, ...THRESHOLD }, { label: "max " + fleet.max, color: "#dc2626", dash: [6, 4] }],
    [c.t, c.fleetSize, flat(fleet.min), flat(fleet.max)], m);
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
`;
