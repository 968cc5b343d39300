// The dashboard page: one HTML document, its stylesheet and script (pageScript.ts) and uPlot, all
// served by the dashboard itself (no build step, no CDN: it must work offline) under a strict
// Content-Security-Policy (csp.ts), which is why nothing here is inline.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Aviary — local</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/vendor/uplot.css">
<link rel="stylesheet" href="/page.css">
<script src="/vendor/uplot.js"></script>
<script src="/page.js" defer></script>
</head>
<body>
<header><h1>Aviary local stack</h1><span id="proxy"></span><span id="updated" class="muted"></span></header>
<main>
  <section class="wide" data-testid="rollout" hidden>
    <h2>Rollout</h2>
    <p id="rollout-summary" data-testid="rollout-summary"></p>
    <ol class="steps" data-testid="rollout-steps"></ol>
  </section>
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
    <table data-testid="flags"><thead><tr><th>flag</th><th>state, rules and values</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Segments</h2>
    <table data-testid="segments"><thead><tr><th>segment</th><th>who is in it</th><th>included</th><th>used by</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Alarms</h2>
    <table data-testid="alarms"><thead><tr><th>alarm</th><th>state</th><th>latest / threshold</th><th>why this state</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Split over time: canary share measured and asked for</h2>
    <div class="chart" id="chart-split" data-testid="chart-split"></div>
    <p class="muted marker-legend">Markers: <span class="swatch routing"></span> routing change <span class="swatch rollout"></span> rollout <span class="swatch alarm"></span> alarm <span class="swatch controller"></span> controller (hover a marker for what happened)</p>
  </section>
  <section>
    <h2>5xx rate: canary vs production, and the canary alarm threshold</h2>
    <div class="chart" id="chart-errors" data-testid="chart-errors"></div>
  </section>
  <section>
    <h2>p99 latency: canary vs production, and the canary alarm threshold</h2>
    <div class="chart" id="chart-latency" data-testid="chart-latency"></div>
  </section>
  <section>
    <h2>Requests per second by role</h2>
    <div class="chart" id="chart-requests" data-testid="chart-requests"></div>
  </section>
  <section>
    <h2>Production fleet size and its bounds</h2>
    <div class="chart" id="chart-fleet" data-testid="chart-fleet"></div>
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
</body>
</html>
`;

export const PAGE_CSS = `:root { --prod: #2563eb; --canary: #d97706; --bad: #dc2626; --ok: #16a34a; --muted: #6b7280; --rollout: #7c3aed; --routing: #0891b2; --controller: #4b5563; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f8fafc; color: #111827; }
header { padding: 12px 20px; background: #111827; color: #fff; display: flex; gap: 24px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header span { color: #d1d5db; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 20px; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px; }
section[hidden] { display: none; }
section h2 { font-size: 15px; margin: 0 0 8px; }
table { width: 100%; border-collapse: collapse; }
td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid #f1f5f9; vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
.pill { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; color: #fff; background: var(--muted); }
.prod { background: var(--prod); } .canary { background: var(--canary); }
.UP, .OK, .on, .ok, .pass, .promoted, .promotable, .progressing { background: var(--ok); }
.ALARM, .DOWN, .off, .alarm, .fail, .aborted { background: var(--bad); }
.info, .unknown, .inconclusive, .paused { background: var(--muted); }
.bar { height: 22px; display: flex; border-radius: 4px; overflow: hidden; background: #e5e7eb; }
.bar div { color: #fff; font-size: 12px; padding: 2px 6px; white-space: nowrap; }
.muted { color: var(--muted); }
button { cursor: pointer; border: 1px solid #d1d5db; background: #fff; border-radius: 6px; padding: 2px 10px; }
.chart { min-height: 200px; }
ol.rules { margin: 4px 0 0; max-height: none; }
pre.json { margin: 4px 0 0; padding: 4px 6px; background: #f1f5f9; border-radius: 4px; font-size: 12px; max-height: 200px; overflow: auto; white-space: pre-wrap; }
.wide { grid-column: 1 / -1; }
ol { margin: 0; padding-left: 18px; max-height: 260px; overflow: auto; }
li { margin: 2px 0; }
ol.steps { display: flex; gap: 8px; padding: 0; list-style: none; max-height: none; overflow-x: auto; }
ol.steps > li { flex: 1 1 0; min-width: 220px; border: 1px solid #e5e7eb; border-left: 4px solid #e5e7eb; border-radius: 6px; padding: 6px 8px; }
ol.steps > li.done { border-left-color: var(--ok); }
ol.steps > li.current { border-left-color: var(--rollout); background: #f5f3ff; }
ol.steps > li.pending { color: var(--muted); }
.verdict { margin-top: 6px; font-size: 12px; }
.verdict td { padding: 1px 4px; }
.u-over .markers { position: absolute; inset: 0; pointer-events: none; }
.u-over .marker { position: absolute; top: 0; bottom: 0; width: 0; border-left: 2px dashed var(--controller); pointer-events: auto; }
.marker.routing { border-color: var(--routing); } .swatch.routing { background: var(--routing); }
.marker.rollout { border-color: var(--rollout); } .swatch.rollout { background: var(--rollout); }
.marker.alarm { border-color: var(--bad); } .swatch.alarm { background: var(--bad); }
.swatch.controller { background: var(--controller); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-left: 8px; }
`;
