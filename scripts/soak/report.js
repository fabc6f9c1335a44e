'use strict';
// What the soak saw, from its raw records: wrong answers (a member handed out longer than §5's
// bound after its balancer died, or more than 1 s after it was drained or removed), failed
// queries (dnsperf's lost and non-NOERROR answers, the checker's unanswered queries), lost
// members and CLI changes (the store at the end against every change the CLI reported done),
// and RSS over time. Written to results/soak-<time>.json and .md.

const fs = require('node:fs');
const path = require('node:path');

/** dnsperf's summary: sent, completed, lost, qps and response codes. */
function parseDnsperf(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : null; };
  const codes = {};
  const line = /Response codes:\s+(.*)/.exec(text)?.[1] ?? '';
  for (const m of line.matchAll(/([A-Z]+) (\d+)/g)) codes[m[1]] = Number(m[2]);
  return {
    sent: num(/Queries sent:\s+(\d+)/), completed: num(/Queries completed:\s+(\d+)/), lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/), codes,
  };
}

/** Intervals [from, to) per ip from events of `on`/`off` kinds (to: Infinity while still on). */
function intervals(events, onKind, offKind) {
  const open = new Map();
  const out = [];
  for (const e of [...events].sort((a, b) => a.atMs - b.atMs)) {
    if (e.kind === onKind && !open.has(e.ip)) open.set(e.ip, e.atMs);
    else if (e.kind === offKind && open.has(e.ip)) {
      out.push({ ip: e.ip, fromMs: open.get(e.ip), toMs: e.atMs });
      open.delete(e.ip);
    }
  }
  for (const [ip, fromMs] of open) out.push({ ip, fromMs, toMs: Infinity });
  return out;
}

/** Samples `[atMs, instance, pool, answers]` that hand out an ip inside one of `spans` past `graceMs`. */
function violations(samples, spans, pool, graceMs) {
  const out = [];
  for (const s of samples) {
    const [atMs, instance, name, answers] = s;
    if (name !== pool || !Array.isArray(answers)) continue;
    for (const span of spans) {
      if (answers.includes(span.ip) && atMs >= span.fromMs + graceMs && atMs < span.toMs) {
        out.push({ atMs, instance, ip: span.ip, lateMs: atMs - span.fromMs });
      }
    }
  }
  return out;
}

function summarize(run) {
  const { samples, events, dnsperf, rss, expected, final, boundMs, pools } = run;
  const dead = violations(samples, intervals(events, 'balancer-down', 'balancer-up'), pools.probed, boundMs);
  const drained = violations(samples, intervals(events, 'drained', 'undrained'), pools.edited, 1000);
  const removed = violations(samples, intervals(events, 'removed', 'added'), pools.edited, 1000);
  const unanswered = samples.filter((s) => !Array.isArray(s[3])).length;
  const perf = dnsperf.map(parseDnsperf);
  const failedDnsperf = perf.reduce((n, p) => n + (p.lost ?? 0) + Object.entries(p.codes).filter(([c]) => c !== 'NOERROR').reduce((k, [, v]) => k + v, 0), 0);
  const lostMembers = [];
  const lostChanges = [];
  for (const [pool, members] of Object.entries(expected.pools)) {
    const have = final.pools[pool];
    for (const [ip, admin] of Object.entries(members)) {
      if (expected.uncertain.includes(ip)) continue;
      if (!have || !(ip in have)) (pool === pools.probed ? lostMembers : lostChanges).push({ pool, ip, want: admin, have: null });
      else if (have[ip] !== admin) lostChanges.push({ pool, ip, want: admin, have: have[ip] });
    }
    for (const ip of Object.keys(have ?? {})) {
      if (!(ip in members) && !expected.uncertain.includes(ip)) lostChanges.push({ pool, ip, want: null, have: have[ip] });
    }
  }
  const rssByInstance = {};
  for (const [atMs, name, kib] of rss) (rssByInstance[name] ??= []).push([atMs, kib]);
  return {
    queries: { dnsperf: perf, failed: failedDnsperf, checkerSamples: samples.length, checkerUnanswered: unanswered },
    wrongAnswers: { deadPastBound: dead.length, drainedPast1s: drained.length, removedPast1s: removed.length, examples: [...dead, ...drained, ...removed].slice(0, 20) },
    lost: { members: lostMembers, cliChanges: lostChanges, cliChangesDone: expected.done, cliChangesFailed: expected.failed, uncertain: expected.uncertain.length },
    faults: events.filter((e) => e.fault).map((e) => ({ kind: e.kind, atMs: e.atMs, ...e.detail })),
    rssKiB: Object.fromEntries(Object.entries(rssByInstance).map(([n, pts]) => [n, {
      first: pts[0]?.[1], last: pts.at(-1)?.[1], max: Math.max(...pts.map((p) => p[1])), points: pts,
    }])),
  };
}

function markdown(meta, s) {
  const lines = [
    `# Soak ${meta.startedIso}`, '',
    `${meta.minutes} min; dnsperf at ${meta.rateQps} q/s (half of the measured ${meta.peakQps} q/s) against three instances; ` +
      `balancers flapping every ${meta.flapEvery}; a store fault every ${meta.faultEverySeconds} s; §5 bound ${meta.boundMs} ms.`, '',
    '| what | count |', '|---|---|',
    `| dnsperf queries sent / lost / not NOERROR | ${s.queries.dnsperf.map((p) => p.sent).reduce((a, b) => a + b, 0)} / ` +
      `${s.queries.dnsperf.map((p) => p.lost).reduce((a, b) => a + b, 0)} / ${s.queries.failed - s.queries.dnsperf.map((p) => p.lost).reduce((a, b) => a + b, 0)} |`,
    `| checker queries / unanswered | ${s.queries.checkerSamples} / ${s.queries.checkerUnanswered} |`,
    `| dead balancer handed out past the bound | ${s.wrongAnswers.deadPastBound} |`,
    `| drained member handed out past 1 s | ${s.wrongAnswers.drainedPast1s} |`,
    `| removed member handed out past 1 s | ${s.wrongAnswers.removedPast1s} |`,
    `| members lost | ${s.lost.members.length} |`,
    `| CLI changes reported done / lost | ${s.lost.cliChangesDone} / ${s.lost.cliChanges.length} |`,
    `| CLI changes refused (exit ≠ 0) / of uncertain outcome | ${s.lost.cliChangesFailed} / ${s.lost.uncertain} |`,
    '', '| fault | at (s) | detail |', '|---|---|---|',
    ...s.faults.map((f) => `| ${f.kind} | ${((f.atMs - meta.startedMs) / 1000).toFixed(1)} | ${JSON.stringify({ ...f, kind: undefined, atMs: undefined })} |`),
    '', '| instance | log lines: store lost / own verdicts / shared again / followed a new master / connection lost |', '|---|---|',
    ...Object.entries(meta.noticed ?? {}).map(([n, c]) => `| ${n} | ${c.lostStore} / ${c.ownVerdicts} / ${c.sharedAgain} / ${c.followedSwitch} / ${c.unreachable} |`),
    '', '| instance | RSS first / max / last (MiB) |', '|---|---|',
    ...Object.entries(s.rssKiB).map(([n, r]) => `| ${n} | ${(r.first / 1024).toFixed(1)} / ${(r.max / 1024).toFixed(1)} / ${(r.last / 1024).toFixed(1)} |`),
    '',
  ];
  return lines.join('\n');
}

function writeReport(dir, meta, run) {
  const s = summarize(run);
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `soak-${meta.startedIso.replace(/[:.]/g, '-')}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify({ meta, summary: s }, null, 1));
  const md = markdown(meta, s);
  fs.writeFileSync(`${base}.md`, md);
  return { base, summary: s, md };
}

module.exports = { writeReport, parseDnsperf, summarize };
