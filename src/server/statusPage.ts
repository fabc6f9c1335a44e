import { createHash } from 'node:crypto';

// The status page at `/` of the --metrics listener (docs/metrics.md, "Status page"): one
// self-contained document. Its script asks /status.json for news and redraws; everything from
// the store reaches the page through textContent, never as markup. The Content-Security-Policy
// allows this script and style by hash and requests to this listener only.

const STYLE = `
:root{--up:#1a7f37;--down:#cf222e;--unk:#9a6700;--drain:#57606a;--bg:#f6f8fa;--line:#d0d7de}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff;overflow-wrap:anywhere}
header{padding:8px 12px;background:#24292f;color:#fff;display:flex;flex-wrap:wrap;gap:4px 16px;align-items:baseline}
header h1{font-size:18px;margin:0}
#meta{font-size:13px;color:#d0d7de}
.banner{margin:8px 12px;padding:8px 12px;border-radius:6px;font-weight:600}
.banner.fail{background:#ffebe9;border:1px solid var(--down);color:#82071e}
.banner.warn{background:#fff8c5;border:1px solid #d4a72c;color:#4d2d00}
.controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:8px 12px}
.controls input[type=search]{flex:1 1 200px;max-width:360px;padding:6px 8px;font:inherit;border:1px solid var(--line);border-radius:6px}
#summary{padding:0 12px;color:#57606a}
section.pool{margin:12px;border:1px solid var(--line);border-radius:6px;overflow:hidden}
section.pool.failing{border-color:var(--down)}
section.pool h2{margin:0;padding:6px 10px;font-size:15px;background:var(--bg);display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline;overflow-wrap:anywhere}
.cfg{margin:0;padding:2px 10px 6px;background:var(--bg);color:#57606a;font-size:12px}
.badge{font-size:12px;font-weight:600;padding:1px 6px;border-radius:10px;background:#eaeef2}
.badge.fo{background:var(--down);color:#fff}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:4px 10px;border-top:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:#57606a;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.v-up{color:var(--up);font-weight:600}.v-down{color:var(--down);font-weight:600}.v-unknown{color:var(--unk);font-weight:600}
.a-drained{color:var(--drain);font-weight:600}
.err{color:var(--down);display:block;max-width:32em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.obs{display:inline-block;max-width:100%;margin:0 6px 2px 0;padding:0 6px;border-radius:10px;background:#eaeef2;font-size:12px}
.obs.stale{opacity:.5;text-decoration:line-through}
.more{padding:8px 12px;color:#57606a}
@media (max-width:700px){
  table,thead,tbody,tr,td{display:block}
  thead{display:none}
  tr{border-top:1px solid var(--line);padding:4px 0}
  td{border:0;padding:2px 10px}
  td.num{text-align:left}
  td::before{content:attr(data-label) ": ";color:#57606a;font-size:12px}
  .err{max-width:100%;white-space:normal}
}
`;

const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const MAX_POOLS = 300;
let doc = null;
let redraw = 0;
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function ago(ms, now) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return s + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 172800) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}
function hostPort(ip, port) { return (ip.includes(":") ? "[" + ip + "]" : ip) + ":" + port; }
function td(row, label, cls, text) { const c = el("td", cls, text); c.dataset.label = label; row.append(c); return c; }
function hasProblem(p) { return p.summary.down + p.summary.unknown + p.summary.drained > 0 || p.members.length === 0; }
function counts(s) { return s.up + " up · " + s.down + " down · " + s.unknown + " unknown · " + s.drained + " drained"; }
function banners(d) {
  const box = $("banners");
  const out = [];
  if (d.store.status !== "ready") {
    out.push(el("div", "banner warn", "Store " + d.store.description + " is " + (d.store.status === "down" ? "unreachable" : "connecting") + " (last full read " + ago(d.store.lastSyncMs, d.nowMs) + "): answers come from this instance's last copy."));
  }
  if (d.store.lost) {
    out.push(el("div", "banner fail", "Store " + d.store.description + " lost its data: answers stay as they are, and it is re-seeded from an instance's snapshot (docs/store.md)."));
  }
  if (!d.ready) out.push(el("div", "banner warn", "This instance is not ready: its listeners are not all bound or its pools are not loaded yet."));
  for (const p of d.pools) {
    const s = p.summary;
    if (s.failingOpen) {
      const b = el("div", "banner fail", "Pool " + p.name + " is failing open: no enabled member is up, so every enabled member is handed out, healthy or not.");
      b.dataset.failingOpen = p.name;
      out.push(b);
    } else if (s.up === 0 && p.members.length > 0) {
      const why = p.whenAllDown === "none" ? "answers are empty (NODATA)" : p.whenAllDown.startsWith("pool:") ? "answers come from backup pool " + p.whenAllDown.slice(5) : "nothing is handed out";
      const b = el("div", "banner fail", "Pool " + p.name + " has no member up: " + why + ".");
      b.dataset.noneUp = p.name;
      out.push(b);
    }
  }
  box.replaceChildren(...out);
}
function poolSection(p, d, live) {
  const sec = el("section", "pool" + (p.summary.failingOpen ? " failing" : ""));
  sec.dataset.pool = p.name;
  const h = el("h2");
  h.append(el("span", "name", p.name), el("span", "badge", counts(p.summary)));
  if (p.summary.failingOpen) h.append(el("span", "badge fo", "FAILING OPEN"));
  sec.append(h);
  const cfg = ["check " + p.check + (p.check === "none" ? "" : " port " + p.port + (p.path ? " " + p.path : "")), "ttl " + p.ttl + " s", "when all down: " + p.whenAllDown];
  if (p.host) cfg.push("host " + p.host);
  sec.append(el("p", "cfg", cfg.join(" · ")));
  if (p.members.length === 0) { sec.append(el("p", "cfg", "no members")); return sec; }
  const withLoad = p.members.some((m) => m.load);
  const table = el("table");
  const head = el("tr");
  for (const t of ["Member", "Verdict", "Admin", "Weight", "Eff. weight", ...(withLoad ? ["Load"] : []), "Last probe", "Observations"]) head.append(el("th", "", t));
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  for (const m of p.members) {
    const row = el("tr");
    row.dataset.member = m.ip;
    td(row, "Member", "", hostPort(m.ip, m.port));
    const v = td(row, "Verdict", "verdict v-" + m.verdict, m.verdict + " " + ago(m.verdictSinceMs, d.nowMs).replace(" ago", ""));
    v.dataset.verdict = m.verdict;
    td(row, "Admin", "admin a-" + m.admin, m.admin);
    td(row, "Weight", "num", m.weight);
    td(row, "Eff. weight", "num", m.effectiveWeight);
    if (withLoad) td(row, "Load", "num", m.load ? (m.load.connections ?? "–") + (m.load.capacity ? " / " + m.load.capacity : "") + " (×" + Number(m.load.factor).toFixed(2) + (m.load.state === "ready" ? "" : ", " + m.load.state) + ")" : "–");
    const last = m.observations.reduce((a, o) => (o.lastProbeMs && (!a || o.lastProbeMs > a.lastProbeMs) ? o : a), null);
    const lp = td(row, "Last probe", "last");
    if (p.check === "none") lp.textContent = "not probed (check none)";
    else if (!last) lp.textContent = "none yet";
    else {
      lp.append(el("span", last.lastOk ? "v-up" : "v-down", last.lastOk ? "ok" : "failed"), " " + ago(last.lastProbeMs, d.nowMs));
      if (last.lastLatencyMs !== undefined) lp.append(", " + Number(last.lastLatencyMs).toFixed(1) + " ms");
      lp.append(" by " + last.instance);
      if (!last.lastOk && last.lastError) { const e = el("span", "err", last.lastError); e.title = last.lastError; lp.append(e); }
    }
    const obs = td(row, "Observations", "observations");
    for (const o of m.observations) {
      const c = el("span", "obs v-" + o.state + (live.has(o.instance) ? "" : " stale"), o.instance + ": " + o.state);
      c.title = o.instance + (live.has(o.instance) ? "" : " (no fresh heartbeat: its view does not count)") + ", " + o.state + " since " + new Date(o.sinceMs).toISOString();
      c.dataset.instance = o.instance;
      obs.append(c);
    }
    if (m.observations.length === 0) obs.textContent = "–";
    body.append(row);
  }
  table.append(body);
  sec.append(table);
  return sec;
}
function render() {
  const d = doc;
  if (!d) return;
  $("instance").textContent = d.instance;
  const live = new Set(d.instances.map((i) => i.name));
  $("meta").textContent = "version " + d.version + " · store " + d.store.description + " (" + d.store.status + ") · live instances: " + (d.instances.map((i) => i.name).join(", ") || "none") + " · data of " + new Date(d.nowMs).toLocaleTimeString();
  banners(d);
  const q = $("filter").value.trim().toLowerCase();
  const onlyProblems = $("problems").checked;
  const shown = d.pools.filter((p) => (!q || p.name.includes(q)) && (!onlyProblems || hasProblem(p)));
  const failing = d.pools.filter((p) => p.summary.failingOpen).length;
  $("summary").textContent = d.pools.length + " pools, " + failing + " failing open; showing " + Math.min(shown.length, MAX_POOLS) + (shown.length > MAX_POOLS ? " of " + shown.length + " (narrow the filter to see the rest)" : "");
  $("pools").replaceChildren(...shown.slice(0, MAX_POOLS).map((p) => poolSection(p, d, live)));
}
function later() { clearTimeout(redraw); redraw = setTimeout(render, 150); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Ask for news: the listener answers when the status changes (or after a few seconds).
// At least 0.5 s between requests, 1 ms more per KB of document, so a page of many pools
// does not keep the instance busy.
async function follow() {
  let seen = 0;
  let gapMs = 500;
  for (;;) {
    const started = Date.now();
    try {
      const res = await fetch("status.json?since=" + seen, { cache: "no-store" });
      if (!res.ok) throw new Error("HTTP " + res.status);
      const text = await res.text();
      doc = JSON.parse(text);
      seen = doc.generation;
      gapMs = Math.max(500, text.length / 1000);
      $("conn").hidden = true;
      render();
    } catch (err) {
      $("conn").hidden = false;
      $("conn").textContent = "Cannot reach this instance (" + err.message + "); retrying. What is shown may be stale.";
      await sleep(2000);
    }
    await sleep(Math.max(0, gapMs - (Date.now() - started)));
  }
}
$("filter").addEventListener("input", later);
$("problems").addEventListener("change", render);
follow();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own script and style, requests to this listener, no frames, no forms. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tierdns status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>tierdns <span id="instance"></span></h1><div id="meta">loading…</div></header>
<div id="conn" class="banner warn" hidden></div>
<div id="banners"></div>
<div class="controls">
<input id="filter" type="search" placeholder="Filter pools by name" aria-label="Filter pools by name">
<label><input id="problems" type="checkbox"> only pools with a member not up</label>
</div>
<div id="summary"></div>
<main id="pools"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
