'use strict';
// Per-tier connections over time as an SVG: one panel per policy, one line per tier, the
// capacity and the restart marked. Plain SVG, no dependencies, readable on GitHub.

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** panels: [{ title, run }]; every run has samples { s, conns[] }, restartAtS and backUpS. */
function chart(panels, { capacity, width = 900, panelHeight = 200 }) {
  const left = 60;
  const right = 20;
  const top = 30;
  const gap = 50;
  const height = top + panels.length * (panelHeight + gap);
  const plotW = width - left - right;
  const endS = panels[0].run.samples[panels[0].run.samples.length - 1].s;
  const x = (s) => left + (s / endS) * plotW;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`];
  panels.forEach(({ title, run }, p) => {
    const y0 = top + p * (panelHeight + gap);
    const y = (c) => y0 + panelHeight - (c / capacity) * panelHeight;
    out.push(`<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(title)}</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelHeight}" fill="none" stroke="#999"/>`);
    for (const frac of [0.25, 0.5, 0.75, 1]) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(frac * capacity)}" y2="${y(frac * capacity)}" stroke="${frac === 1 ? '#000' : '#ddd'}" stroke-dasharray="${frac === 1 ? '4 3' : ''}"/>`);
      out.push(`<text x="${left - 6}" y="${y(frac * capacity) + 4}" text-anchor="end">${(frac * capacity / 1000).toFixed(frac === 0.25 || frac === 0.75 ? 1 : 0)}k</text>`);
    }
    out.push(`<line x1="${x(run.restartAtS)}" x2="${x(run.restartAtS)}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#888" stroke-dasharray="2 2"/>`);
    out.push(`<text x="${x(run.restartAtS) + 4}" y="${y0 + 14}" fill="#555">tier 1 restarts</text>`);
    for (let h = 0; h * 3600 <= endS; h++) out.push(`<text x="${x(h * 3600)}" y="${y0 + panelHeight + 14}" text-anchor="middle">${h} h</text>`);
    const tiers = run.samples[0].conns.length;
    for (let t = 0; t < tiers; t++) {
      const pts = run.samples.filter((_, i) => i % 3 === 0).map((sm) => `${x(sm.s).toFixed(1)},${y(sm.conns[t]).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${COLORS[t % COLORS.length]}" stroke-width="1.2" points="${pts}"/>`);
      out.push(`<text x="${left + plotW - 60}" y="${y0 + panelHeight - 10 - 14 * t}" fill="${COLORS[t % COLORS.length]}">tier ${t + 1}</text>`);
    }
  });
  out.push(`<text x="12" y="${top + panelHeight / 2}" transform="rotate(-90 12 ${top + panelHeight / 2})" text-anchor="middle">connections</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { chart };
