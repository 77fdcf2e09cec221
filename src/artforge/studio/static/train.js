// Train: start a run from a folder on the server or an uploaded zip, then watch it learn: losses drawn live
// from the job's Server-Sent Events, the latest sample grid, the ETA, and pause / resume / cancel.
import { api, busy, clear, duration, fail, h, me, models, notify } from "./core.js";
import { COLORS, drawChart, lossKeys } from "./chart.js";
import { isOffline } from "./connection.js";
import { estimateText, measuredRate } from "./estimate.js";

const ACTIVE = ["queued", "running", "paused", "pausing", "cancelling"];
const FINAL = ["done", "failed", "cancelled"];
const STOPPING = { pause: "pausing", cancel: "cancelling" };
const stopping = new Map();            // job id -> "pausing" | "cancelling" while that request is on its way
const BUILTIN = { gan: "The built-in landscapes", music: "The built-in folk tunes", style: "The built-in paintings" };
let form, formError, monitor, watching = null, rate = null, settingsAsked = null;

/** Whether the signed-in user may pause, resume, cancel or remove `job`: the server's word (can_control)
 *  where it gives it, else editors steer their own jobs and owners everyone's. */
export function canControl(job) {
  if (typeof job.can_control === "boolean") return job.can_control;
  if (!me.can("editor")) return false;
  return me.can("owner") || (!!job.author && job.author === me.user.username);
}

/** The state to show: a stop asked for and not answered yet shows as pausing / cancelling. */
function shownState(job) {
  const asked = stopping.get(job.id);
  return asked && ["queued", "running"].includes(job.state) ? asked : job.state;
}

/** Pause / Resume / Cancel buttons for a job, enabled by its state and by who may steer it; `changed(job)`
 *  gets the new state (null after Remove, which `removable` lists offer for finished jobs). */
export function jobControls(job, changed, removable = false) {
  const who = job.kind === "train" && job.name ? job.name : job.id;
  const mine = canControl(job);
  const state = shownState(job);
  const act = (verb, label, cls) => h("button", { type: "button", class: cls, "aria-label": `${label} job ${who}`,
    disabled: !allowed(state, verb) || !mine,
    onclick: e => busy(e.currentTarget, async () => {
      if (STOPPING[verb]) { stopping.set(job.id, STOPPING[verb]); markStopping(job.id, STOPPING[verb]); }
      let answer = job, error = null;                  // on a refusal the job is shown as it was
      try { answer = await api(`/api/jobs/${job.id}/${verb}`, { method: "POST" }); } catch (err) { error = err; }
      stopping.delete(job.id);
      changed(answer);
      if (error) fail(error);
    }) }, label);
  const remove = FINAL.includes(job.state) && removable
    ? h("button", { type: "button", "aria-label": `Remove job ${who} from the list`, disabled: !mine,
        title: "forget this finished job (its model and pictures stay)",
        onclick: e => busy(e.currentTarget, async () => {
          try { await api(`/api/jobs/${job.id}`, { method: "DELETE" }); changed(null); } catch (err) { fail(err); }
        }) }, "Remove")
    : null;
  const title = mine || !me.can("editor") ? undefined : `${job.author || "someone else"} started this job; only they or an owner can change it`;
  return h("div", { class: "row", style: "gap:6px", title }, act("pause", "Pause"), act("resume", "Resume"),
           act("cancel", "Cancel", "danger"), remove);
}

/** Shows at once, on every badge of the job, that its stop was asked for. */
function markStopping(id, state) {
  for (const b of document.querySelectorAll(`.badge[data-job="${id}"]`)) {
    b.className = `badge ${state}`;
    b.textContent = LABELS[state];
  }
}

function allowed(state, verb) {
  if (verb === "pause") return state === "running" || state === "queued";
  if (verb === "resume") return state === "paused" || state === "interrupted";
  return [...ACTIVE, "interrupted"].includes(state) && state !== "cancelling";
}

const LABELS = { pausing: "pausing…", cancelling: "cancelling…" };

/** The job's state as a badge; `stale` when the studio does not answer (the last known state in its title). */
export function stateBadge(job, { stale = false, id } = {}) {
  const state = shownState(job);
  if (stale) return h("span", { class: "badge unknown", id, dataset: { job: job.id }, title: `the studio does not answer; last known: ${state}` }, "unknown");
  return h("span", { class: `badge ${state}`, id, dataset: { job: job.id } }, LABELS[state] || state);
}

/** A job's error, where it still says something about the job: a cancelled or finished job keeps the
 *  error of an earlier interruption in its record, but it is no longer what happened to it. */
export function jobError(job) {
  return ["failed", "interrupted"].includes(job.state) ? job.error || "" : "";
}

function build(root) {
  formError = h("p", { class: "form-error", role: "alert" });
  const source = (value, label) => h("label", { class: "field check" },
    h("input", { type: "radio", name: "source", value, checked: value === "folder", onchange: sourceChanged }), h("span", {}, label));
  form = h("form", { class: "panel stack sticky", "aria-label": "Start training" },
    h("h2", {}, "New training run"),
    h("div", { class: "field" }, h("label", { for: "train-family" }, h("span", {}, "Model family")),
      h("select", { id: "train-family", name: "family", "aria-describedby": "train-family-help", onchange: familyChanged },
        h("option", { value: "gan" }, "gan")),
      h("span", { class: "help", id: "train-family-help" }, "gan: pictures; music: melodies from MIDI files; style: a painting style")),
    h("div", { class: "field" }, h("label", { for: "train-name" }, h("span", {}, "Run name")),
      h("input", { id: "train-name", name: "name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,99}", placeholder: "e.g. my-paintings",
                   "aria-describedby": "train-name-help" }),
      h("span", { class: "help", id: "train-name-help" }, "letters, digits, '.', '_' or '-'; it becomes the model's name")),
    h("fieldset", {}, h("legend", {}, "Training data"),
      h("div", { class: "stack", style: "gap:8px" }, source("folder", "A folder on the server"), source("zip", "A zip of images from this computer"),
        source("builtin", `${BUILTIN.gan} (to try things out)`)),
      h("div", { class: "field", id: "train-folder-field", style: "margin-top:10px" },
        h("label", { for: "train-folder" }, h("span", {}, "Folder on the server")),
        h("input", { id: "train-folder", name: "folder", placeholder: "e.g. paintings", autocomplete: "off", "aria-describedby": "train-folder-help" }),
        h("span", { class: "help", id: "train-folder-help" }, "a folder inside the studio's data dir")),
      h("div", { class: "field", id: "train-zip-field", hidden: true, style: "margin-top:10px" },
        h("label", { for: "train-zip" }, h("span", {}, "Zip of images")),
        h("input", { id: "train-zip", name: "zip", type: "file", accept: ".zip,application/zip",
                     onchange: () => clear(form.querySelector("#train-zip-report")) }),
        h("div", { id: "train-zip-report", class: "stack", style: "gap:4px", role: "status" }))),
    h("div", { class: "field" }, h("label", { for: "train-steps" }, h("span", {}, "Steps")),
      h("input", { id: "train-steps", name: "steps", type: "number", min: 1, step: 1, value: 2000, required: true,
                   "aria-describedby": "train-estimate", oninput: showEstimate }),
      h("span", { class: "help", id: "train-estimate", "aria-live": "polite" })),
    h("details", {}, h("summary", { class: "muted small" }, "More settings"),
      h("div", { id: "train-settings-fields", class: "stack", style: "gap:8px;margin-top:8px", role: "group", "aria-label": "Settings of this family" }),
      h("div", { class: "field", style: "margin-top:8px" }, h("label", { for: "train-params" }, h("span", {}, "Training settings")),
        h("textarea", { id: "train-params", name: "params", rows: 4, placeholder: "one per line, e.g.\nresolution = 32\npreset = tiny\nbatch_size = 8", spellcheck: "false" }))),
    formError,
    h("button", { type: "submit", class: "primary", id: "train-go" }, "Start training"));
  form.addEventListener("submit", e => { e.preventDefault(); busy(form.querySelector("#train-go"), start); });
  monitor = h("div", { class: "stack" });
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "train-title", tabindex: "-1" }, "Train"),
      h("p", {}, "Teach a model your own pictures. Runs wait their turn in the Jobs queue.")),
    h("div", { class: "split wide-left" }, form, monitor));
}

function sourceChanged() {
  const source = form.querySelector("input[name=source]:checked").value;
  form.querySelector("#train-folder-field").hidden = source !== "folder";
  form.querySelector("#train-zip-field").hidden = source !== "zip";
}

/** The family's settings (GET /api/train/settings): the family choices and one field per setting, empty
 *  for the family's default (shown as the placeholder), with its type's input, range and help. */
async function familyChanged() {
  const family = form.querySelector("#train-family").value;
  const asked = settingsAsked = api(`/api/train/settings?family=${encodeURIComponent(family)}`);
  let answer;
  try { answer = await asked; } catch (e) { if (asked === settingsAsked) fail(e, formError); return; }
  if (asked !== settingsAsked) return;                 // another family was picked meanwhile
  const select = form.querySelector("#train-family");
  if (select.options.length !== answer.families.length) {
    clear(select, answer.families.map(f => h("option", { value: f }, f)));
    select.value = answer.family;
  }
  form.querySelector("input[name=source][value=builtin]").nextElementSibling.textContent = `${BUILTIN[answer.family] || "The built-in set"} (to try things out)`;
  clear(form.querySelector("#train-settings-fields"), answer.settings.map(settingField));
}

function settingField(s) {
  const id = `train-set-${s.key.replace(/\W/g, "-")}`;
  const help = h("span", { class: "help", id: `${id}-help` }, s.help);
  const common = { id, name: `setting:${s.key}`, dataset: { key: s.key, type: s.type }, "aria-describedby": `${id}-help` };
  const input = s.type === "bool"
    ? h("select", common, h("option", { value: "" }, `default (${s.default})`), h("option", { value: "true" }, "true"),
        h("option", { value: "false" }, "false"))
    : h("input", { ...common, type: s.type === "str" ? "text" : "number", placeholder: String(s.default), autocomplete: "off",
                   min: s.min ?? undefined, max: s.max ?? undefined, step: s.type === "int" ? 1 : s.type === "float" ? "any" : undefined });
  return h("div", { class: "field" }, h("label", { for: id }, h("span", { class: "mono" }, s.key)), input, help);
}

/** The settings filled in the family's fields, typed as the server declares them. */
function fieldParams() {
  const params = {};
  for (const el of form.querySelectorAll("#train-settings-fields [data-key]")) {
    const v = el.value.trim();
    if (v === "") continue;
    const type = el.dataset.type;
    params[el.dataset.key] = type === "bool" ? v === "true" : type === "int" || type === "float" ? Number(v) : v;
  }
  return params;
}

function parseParams(text) {
  const params = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = line.match(/^([A-Za-z_][\w.]*)\s*[=:]\s*(.+)$/);
    if (!m) throw new Error(`Training settings, line ${i + 1}: write it as name = value`);
    const v = m[2].trim();
    params[m[1]] = v === "true" ? true : v === "false" ? false : v !== "" && !isNaN(Number(v)) ? Number(v) : v.replace(/^["']|["']$/g, "");
  }
  return params;
}

async function start() {
  formError.textContent = "";
  try {
    const data = new FormData(form);
    const params = { ...fieldParams(), ...parseParams(data.get("params") || "") };
    let source = data.get("source") === "builtin" ? "builtin" : data.get("folder").trim();
    if (data.get("source") === "zip") {
      const file = form.querySelector("#train-zip").files[0];
      if (!file) throw new Error("Zip of images: choose a .zip file first");
      const upload = new FormData();
      upload.append("file", file);
      const up = await api("/api/uploads", { method: "POST", form: upload });
      zipReport(up);
      source = up.upload;
    } else if (!source) throw new Error("Folder on the server: give the folder that holds the pictures");
    const job = await api("/api/jobs", { method: "POST", json: { kind: "train", family: data.get("family"), name: data.get("name"),
                                                                  data: source, steps: Number(data.get("steps")), params } });
    form.querySelector("#train-name").value = "";
    location.hash = `#/train/${job.id}`;
  } catch (e) { fail(e, formError); }
}

/** What an uploaded zip held: "N images found, M files skipped", and the skipped files with why (the server
 *  lists the first 50) in a list to open. Stays under the zip box until another zip is chosen. */
function zipReport(up) {
  const count = up.skipped_count || 0;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const listed = up.skipped || [];
  const more = count - listed.length;
  clear(form.querySelector("#train-zip-report"),
    h("p", { class: "small" }, `${plural(up.images, "image", "images")} found, ${plural(count, "file", "files")} skipped`),
    listed.length ? h("details", { class: "small" }, h("summary", { class: "muted" }, "Skipped files"),
      h("ul", { class: "skipped", "aria-label": "Skipped files" },
        listed.map(s => h("li", {}, h("span", { class: "mono" }, s.path), h("span", { class: "muted" }, ` — ${s.reason}`))),
        more > 0 ? h("li", { class: "muted" }, `…and ${more} more`) : null)) : null);
}

function showEstimate() {
  form.querySelector("#train-estimate").textContent = estimateText(Number(form.querySelector("#train-steps").value), rate);
}

async function show(args) {
  form.querySelector("#train-go").disabled = !me.can("editor");
  if (!settingsAsked) familyChanged();
  const listed = api("/api/jobs");
  listed.then(async ({ items }) => { rate = await measuredRate(items); showEstimate(); }).catch(() => {});
  let id = args.path[0];
  if (!id) {
    try {
      const { items } = await listed;
      const train = items.filter(j => j.kind === "train");
      const pick = train.find(j => j.state === "running") || train.find(j => ACTIVE.includes(j.state)) || train[train.length - 1];
      if (pick) id = String(pick.id);
    } catch (e) {
      clear(monitor, h("p", { class: "empty" }, `The job queue is not available: ${e.message}`));
      return;
    }
  }
  if (!id) {
    stop();
    clear(monitor, h("p", { class: "empty" }, "No training runs yet. Start one with the form; its progress shows here."));
    return;
  }
  if (watching && watching.id === id) return;
  watch(id);
}

function hide() { stop(); }

function stop() {
  if (watching) { watching.close(); watching = null; }
}

/** Follows one job: its events stream (EventSource reconnects by itself), or polling if streaming fails.
 *  While the studio does not answer, the view says the state is unknown instead of its last "running". */
function watch(id) {
  stop();
  const view = monitorView(id);
  clear(monitor, view.el);
  const rows = new Map();
  let job = null, poll = null, closed = false, es = null;
  const update = (j) => {
    job = j;
    for (const r of j.history || []) rows.set(r.step, r);
    view.update(j, [...rows.values()].sort((a, b) => a.step - b.step));
  };
  function stream() {
    es = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
    es.addEventListener("progress", e => { try { update(JSON.parse(e.data)); } catch (err) { console.error(err); } });
    es.addEventListener("end", e => {
      es.close();
      try { if (e.data) update(JSON.parse(e.data)); } catch { /* the end event may carry no job */ }
      refresh();
      if (job && job.state === "done") { models(true); notify(`Training run ${job.name} finished.`, "ok"); }
    });
    es.onerror = () => {
      if (closed) return;
      refresh();                        // a request that gets no answer marks the connection lost
      if (es.readyState === EventSource.CLOSED && !poll) poll = setInterval(refresh, 2000);
    };
  }
  async function refresh() {
    try {
      const j = await api(`/api/jobs/${encodeURIComponent(id)}`);
      if (closed) return;
      update({ ...j, history: [] });
      if (!ACTIVE.includes(j.state) && poll) { clearInterval(poll); poll = null; }
    } catch (e) { if (e.status === 404) view.missing(); else fail(e); }
  }
  const connection = e => {
    if (closed) return;
    view.stale(!e.detail.online);
    if (!e.detail.online) return;
    if (es.readyState === EventSource.CLOSED && (!job || ACTIVE.includes(job.state))) stream();
    refresh();
  };
  window.addEventListener("studio:connection", connection);
  stream();
  refresh();
  watching = { id, close() {
    closed = true; es.close(); if (poll) clearInterval(poll);
    window.removeEventListener("studio:connection", connection); view.dispose();
  } };
}

function monitorView(id) {
  const title = h("h2", { class: "grow", style: "font-size:18px" }, `Job ${id}`);
  const badge = h("span");
  const controls = h("div");
  const progress = h("progress", { max: 1, value: 0, "aria-label": "Training progress" });
  const stat = (label) => { const b = h("b", {}, "–"); return [b, h("div", { class: "stat" }, b, h("span", {}, label))]; };
  const [stepB, stepEl] = stat("step"), [etaB, etaEl] = stat("time left"), [lossB, lossEl] = stat("latest losses");
  const canvas = h("canvas", { class: "chart", role: "img", "aria-label": "Losses chart: no data yet", id: "train-chart" });
  const legend = h("div", { class: "legend" });
  const sample = h("img", { alt: "Latest samples of this run", id: "train-sample", hidden: true,
                            onload: () => { sample.hidden = false; sampleNote.hidden = true; } });
  const sampleNote = h("p", { class: "muted small" }, "The first sample grid appears after the first checkpoint.");
  const error = h("p", { class: "form-error", role: "alert", id: "train-error" });
  const after = h("div", { class: "row" });
  let lastSample = 0, sampleStep = -1, history = [], current = null, stale = isOffline();
  const el = h("div", { class: "stack" },
    h("div", { class: "panel" }, h("div", { class: "row" }, title, badge, controls), h("div", { style: "margin-top:12px" }, progress),
      h("div", { class: "stats" }, stepEl, etaEl, lossEl), error, after),
    h("div", { class: "monitor" },
      h("section", { class: "panel", "aria-label": "Losses" }, h("h3", { style: "margin-bottom:8px" }, "Losses"), canvas, legend),
      h("section", { class: "panel sample", "aria-label": "Latest samples" }, h("h3", { style: "margin-bottom:8px" }, "Latest samples"), sample, sampleNote)));
  const redraw = () => { if (current) drawChart(canvas, history, { xmax: current.steps }); };
  window.addEventListener("resize", redraw);
  function update(job, rows) {
    current = job;
    history = rows;
    title.textContent = job.name || `Job ${job.id}`;
    clear(badge, stateBadge(job, { id: "train-state", stale }));
    el.classList.toggle("stale", stale);
    clear(controls, jobControls(job, j => update({ ...j, history: [] }, history)));
    progress.max = job.steps || 1;
    progress.value = job.step || 0;
    stepB.textContent = `${job.step ?? 0} / ${job.steps ?? "?"}`;
    etaB.textContent = stale ? "–" : job.state === "running" ? duration(job.eta_s) : job.state === "done" ? "done" : "–";
    const losses = Object.entries(job.losses || {}).filter(([, v]) => typeof v === "number");
    lossB.textContent = losses.length ? losses.map(([k, v]) => `${k} ${v.toFixed(3)}`).join("  ") : "–";
    error.textContent = jobError(job);
    const keys = lossKeys(rows);
    clear(legend, keys.map((k, i) => h("span", {}, h("i", { style: `background:${COLORS[i % COLORS.length]}` }), k)));
    canvas.setAttribute("aria-label", rows.length
      ? `Losses chart, ${rows.length} points up to step ${rows[rows.length - 1].step}: ${keys.map(k => `${k} ${Number(rows[rows.length - 1][k]).toFixed(3)}`).join(", ")}`
      : "Losses chart: no data yet");
    redraw();
    const now = Date.now();
    if (job.sample_url && job.step !== sampleStep && (now - lastSample > 3000 || !ACTIVE.includes(job.state))) {
      lastSample = now;
      sampleStep = job.step;
      sample.src = job.sample_url;           // it names the step, so a new grid is a new address
    }
    clear(after, job.state === "done" ? [
      h("a", { class: "button primary", href: `#/create?model=${encodeURIComponent(job.name)}` }, "Create with it"),
      h("a", { class: "button", href: `#/models/${encodeURIComponent(job.name)}` }, "See the model")] : []);
  }
  const restale = on => { stale = on; if (current) update(current, history); };
  return { el, update, stale: restale, missing: () => { error.textContent = `There is no job ${id}.`; },
           dispose: () => window.removeEventListener("resize", redraw) };
}

export default { name: "train", title: "Train", build, show, hide };
