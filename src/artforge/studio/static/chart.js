// A small line chart on a <canvas>: one line per loss, the raw values faint and a smoothed line on top
// (losses of adversarial training are noisy; the trend is what an artist watches).

export const COLORS = ["#e3a857", "#7fb2d9", "#82c48a", "#d8705f", "#b59be0", "#7fc4b0", "#e3c157", "#c7c3bb"];

/** The loss names in a history ([{step, name: value, ...}]), in first-seen order. */
export function lossKeys(history) {
  const keys = [];
  for (const row of history) for (const k of Object.keys(row)) if (k !== "step" && !keys.includes(k) && typeof row[k] === "number") keys.push(k);
  return keys;
}

function smooth(values, alpha) {
  const out = [];
  let m = null;
  for (const v of values) { m = m === null ? v : alpha * m + (1 - alpha) * v; out.push(m); }
  return out;
}

function ticks(lo, hi, n) {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map(f => f * mag).find(s => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toPrecision(6));
  return out;
}

/** Draws `history` on `canvas`; x runs from 0 to `xmax` (the run's total steps, so progress shows). */
export function drawChart(canvas, history, { xmax, keys = lossKeys(history) } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, hgt = canvas.clientHeight || 280;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  const m = { l: 48, r: 12, t: 10, b: 24 };
  const pw = w - m.l - m.r, ph = hgt - m.t - m.b;
  const values = history.flatMap(r => keys.map(k => r[k])).filter(v => typeof v === "number" && isFinite(v));
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#6d6b66";
  if (!values.length) {
    ctx.fillText("waiting for the first losses…", m.l + 8, m.t + ph / 2);
    return;
  }
  let lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.06;
  lo -= pad; hi += pad;
  const last = history[history.length - 1].step || 0;
  const xm = Math.max(xmax || 0, last, 1);
  const X = s => m.l + (s / xm) * pw, Y = v => m.t + (1 - (v - lo) / (hi - lo)) * ph;
  ctx.strokeStyle = "#2d2d31";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of ticks(lo, hi, 4)) {
    ctx.beginPath(); ctx.moveTo(m.l, Math.round(Y(v)) + .5); ctx.lineTo(w - m.r, Math.round(Y(v)) + .5); ctx.stroke();
    ctx.fillText(String(v), m.l - 6, Y(v));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const s of ticks(0, xm, 5)) {              // "100k", and the last label kept inside the canvas
    const text = s >= 10000 ? `${+(s / 1000).toPrecision(4)}k` : String(s);
    const half = ctx.measureText(text).width / 2;
    ctx.fillText(text, Math.min(X(s), w - half - 1), hgt - m.b + 6);
  }
  const steps = history.map(r => r.step);
  keys.forEach((k, i) => {
    const pts = history.map((r, j) => [steps[j], r[k]]).filter(([, v]) => typeof v === "number" && isFinite(v));
    if (!pts.length) return;
    const color = COLORS[i % COLORS.length];
    const line = (ys, alpha, width) => {
      ctx.globalAlpha = alpha; ctx.strokeStyle = color; ctx.lineWidth = width;
      ctx.beginPath();
      pts.forEach(([s], j) => (j ? ctx.lineTo(X(s), Y(ys[j])) : ctx.moveTo(X(s), Y(ys[j]))));
      ctx.stroke();
    };
    const raw = pts.map(p => p[1]);
    line(raw, pts.length > 20 ? 0.28 : 1, 1.2);
    if (pts.length > 20) line(smooth(raw, 0.85), 1, 2);
  });
  ctx.globalAlpha = 1;
}
