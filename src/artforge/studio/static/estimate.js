// How long a new training run will take: the steps asked for times a rate measured on this studio, the
// mean seconds per step of the last ten log points (`sec_per_step` in metrics.jsonl) of the newest training
// run that has logged any. The text names that run and its settings, since other settings train at other
// speeds.
import { duration } from "./core.js";

const POINTS = 10;
const TAIL_BYTES = 16384;

/** The rate of the newest timed run among `jobs` (the jobs list), or null: {name, seconds, params}. */
export async function measuredRate(jobs) {
  const runs = jobs.filter(j => j.kind === "train" && j.name).sort((a, b) => b.id - a.id);
  for (const job of runs.slice(0, 5)) {
    const seconds = await secondsPerStep(job.name);
    if (seconds) return { name: job.name, seconds, params: job.params || {} };
  }
  return null;
}

async function secondsPerStep(name) {
  let text;
  try {
    const r = await fetch(`/api/models/${encodeURIComponent(name)}/files/metrics.jsonl`,
                          { headers: { Range: `bytes=-${TAIL_BYTES}` }, credentials: "same-origin", cache: "no-store" });
    if (!r.ok) return null;
    text = await r.text();
    const from = /^bytes (\d+)-/.exec(r.headers.get("content-range") || "");
    if (r.status === 206 && from && Number(from[1]) > 0) text = text.slice(text.indexOf("\n") + 1);   // a cut first line
  } catch { return null; }
  const rates = [];
  for (const line of text.split("\n")) {
    try {
      const v = JSON.parse(line).sec_per_step;
      if (typeof v === "number" && isFinite(v) && v > 0) rates.push(v);
    } catch { /* an empty or partly written line */ }
  }
  const last = rates.slice(-POINTS);
  return last.length ? last.reduce((a, b) => a + b, 0) / last.length : null;
}

/** "≈ 1 h 6 min at 0.40 s a step, as measured on run paintings (resolution 32, preset tiny)". */
export function estimateText(steps, rate) {
  if (!rate) return "No run has been timed on this studio yet; the Jobs list shows a run's time left once it trains.";
  if (!(steps > 0)) return "";
  const settings = Object.entries(rate.params).map(([k, v]) => `${k} ${v}`).join(", ");
  return `≈ ${duration(steps * rate.seconds)} at ${rate.seconds.toFixed(2)} s a step, as measured on run ${rate.name}` +
         ` (${settings || "default settings"}); other settings train at other speeds.`;
}
