// Create: a form built from the chosen pipeline's declared parameters, the results as a grid, and Breed:
// select two or more pictures and get children (crossover, blending, mutation with its strength control), or
// Morph two of them. Generate goes through the job queue (create-queue.js: progress, Cancel, pictures as they
// land); interpolate and the style pipelines answer with their pictures; a style form takes its pictures by
// artwork number, filled in from the selection.
import { api, artworkTile, busy, clear, fail, h, me, modelSelect, models, notify, paramFields,
         pipelineFamily, pipelines } from "./core.js";
import { generateQueued } from "./create-queue.js";

const selected = new Map();          // artwork id -> artwork
const ARBITRARY = "starter:style-arbitrary";
const STYLE_ARCH = { "stylize.fast": "transform-net", "stylize.arbitrary": "adain-lite0" };
const FORM_DEFAULTS = { generate: { n: 4, no_copies: true }, interpolate: { frames: 8 } };
let form, fields, extras, error, results, selbar, breedBox, breedError, readBreed, pipeSelect, modelBox, readParams, shown;

function build(root) {
  pipeSelect = h("select", { id: "create-pipeline", name: "pipeline", onchange: () => renderForm({}) });
  modelBox = h("div");
  fields = h("div", { class: "stack" });
  extras = h("div", { class: "stack", id: "create-inputs" });
  error = h("p", { class: "form-error", role: "alert" });
  form = h("form", { class: "panel stack sticky", "aria-label": "Create" },
    h("div", { class: "field" }, h("label", { for: "create-pipeline" }, h("span", {}, "Pipeline")), pipeSelect),
    modelBox, extras, fields, error,
    h("div", { class: "row" },
      h("button", { class: "primary grow", type: "submit", id: "create-go", title: "Ctrl+Enter",
                    "aria-describedby": "create-go-help" }, "Generate")),
    h("p", { class: "help", id: "create-go-help" }, ""));
  form.addEventListener("submit", e => { e.preventDefault(); run(); });
  results = h("div", { "aria-live": "polite" });
  breedBox = h("div", { class: "params" });
  breedError = h("p", { class: "form-error", role: "alert" });
  selbar = h("section", { class: "selbar", "aria-label": "Breed the selected pictures", hidden: true },
    h("div", { class: "row", style: "margin-bottom:10px" }, h("b", { id: "selcount" }), h("span", { class: "grow muted small" },
      "Children mix their parents' latents; every child remembers its parents (see its family)."),
      h("button", { type: "button", class: "ghost", onclick: clearSelection }, "Clear selection")),
    h("div", { class: "row", style: "align-items:end" }, breedBox,
      h("button", { type: "button", id: "morph-go", hidden: true, title: "8 frames from the first picture to the second",
                    onclick: e => morph(e.currentTarget) }, "Morph"),
      h("button", { type: "button", class: "primary", id: "breed-go", onclick: e => breed(e.currentTarget) }, "Breed")),
    breedError);
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "create-title", tabindex: "-1" }, "Create"),
      h("p", {}, "Pull pictures out of a model. Click pictures to select them, then breed them.")),
    h("div", { class: "split" }, form, h("div", {}, results,
      h("p", { class: "empty", id: "create-empty" }, "Your pictures will appear here. Choose a seed and press Generate."), selbar)));
  root.addEventListener("keydown", e => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); form.requestSubmit(); }
  });
}

async function show(args) {
  const pipes = await pipelines();
  const runnable = pipes.filter(p => p.studio_page === "create" && p.name !== "breed");
  const wanted = args.query.get("pipeline") || pipeSelect.value || "generate";
  if (!shown || args.query.toString()) {
    clear(pipeSelect, runnable.map(p => h("option", { value: p.name, title: p.help }, `${p.name} — ${p.help}`)));
    pipeSelect.value = runnable.some(p => p.name === wanted) ? wanted : runnable[0]?.name;
    const chosen = runnable.find(p => p.name === pipeSelect.value);
    await renderForm(typed(chosen?.params || [], args.query), args.query.get("model"));
    const breedParams = pipes.find(p => p.name === "breed");
    if (breedParams) {
      clear(breedBox);
      readBreed = paramFields(breedBox, breedParams.params, { n: 4, ...typed(breedParams.params, args.query, "breed.") }, { id: "breed" });
    }
    shown = true;
    if (args.query.get("parents")) await pickParents(args.query.get("parents"));
    const model = args.query.get("model");
    if (model && form.querySelector("#create-model").value !== model) {
      error.textContent = `Model ${model} is not available (not trained yet, or removed); pick another.`;
    }
    const from = args.query.get("from");
    if (from) notify(args.query.get("parents") ? `Artwork #${from}'s parents are picked, with its breeding settings: Breed makes it again.`
                     : `Artwork #${from}'s settings are filled in: Generate makes it again, first.`, "ok");
    // the settings are in the form now: the address no longer carries them (a reload keeps the form as typed)
    if (args.query.toString()) history.replaceState(null, "", "#/create");
  }
  const readOnly = !me.can("editor");
  form.querySelector("#create-go").disabled = readOnly;
  if (readOnly) error.textContent = "You are a viewer here: you can look, not create. Ask the owner for editor rights.";
}

/** Values for a pipeline's form from the address (?seed=7&no_copies=false, or breed.mode=... with `prefix`),
 *  each turned into its param's type; names the pipeline does not declare are left out. */
function typed(params, query, prefix = "") {
  const out = {};
  for (const p of params) {
    const v = query.get(prefix + p.name);
    if (v === null) continue;
    out[p.name] = p.type === "bool" ? v === "true" : p.type === "int" || p.type === "float" ? Number(v) : v;
  }
  return out;
}

/** Pictures chosen elsewhere (the gallery's selection, a bred picture's recipe) picked as parents here. */
async function pickParents(list) {
  const ids = [...new Set(list.split(",").map(Number).filter(n => Number.isInteger(n) && n > 0))];
  const arts = [];
  for (const id of ids) {
    try { arts.push(await api(`/api/artworks/${id}`)); } catch (e) { fail(e); }
  }
  if (!arts.length) return;
  clearSelection();
  for (const a of arts) selected.set(a.id, a);
  addBatch(`parents from the gallery: ${arts.map(a => `#${a.id}`).join(", ")}`, arts);
  updateBar();
}

async function renderForm(values, chosenModel) {
  const pipes = await pipelines();
  const p = pipes.find(x => x.name === pipeSelect.value);
  clear(fields);
  clear(modelBox);
  clear(extras);
  if (!p) return;
  form.querySelector("#create-go").firstChild.textContent = p.name === "generate" ? "Generate" : "Make";
  form.querySelector("#create-go-help").textContent = p.name === "generate"
    ? "Generate queues a job beside any training run: its pictures appear here as they are made, and Cancel keeps those made so far."
    : p.name === "interpolate" ? "Each frame of the morph becomes a picture. To morph between two of your pictures, select them and press Morph."
    : "Pick the pictures by their number (#), or select them below: the first is the content, the others the styles.";
  const all = styleChoices(p, await models());
  const current = chosenModel || modelBox.dataset.model;
  const select = modelSelect(all, pipelineFamily(p), current, { id: "create-model", name: "model",
    onchange: e => { modelBox.dataset.model = e.target.value; fitCopyCheck(all); } });
  modelBox.append(h("div", { class: "field" }, h("label", { for: "create-model" }, h("span", {}, "Model")), select));
  modelBox.dataset.model = select.value;
  if (STYLE_ARCH[p.name]) styleInputs(p.name === "stylize.arbitrary");
  readParams = paramFields(fields, p.params, { ...FORM_DEFAULTS[p.name], ...values }, { skip: ["batch_size"], id: "create" });
  fitCopyCheck(all);
}

/** For a style pipeline, only the style models of its kind (and the shipped arbitrary-style network). */
function styleChoices(p, all) {
  const arch = STYLE_ARCH[p.name];
  if (!arch) return all;
  const fit = all.filter(m => m.family === "style" && m.arch === arch);
  if (arch === "adain-lite0" && !fit.some(m => m.name === ARBITRARY)) {
    fit.unshift({ name: ARBITRARY, ready: true, family: "style", arch, shipped: true });
  }
  return fit;
}

/** The pictures a style pipeline paints: the content and (arbitrary) the styles, by artwork number. */
function styleInputs(withStyles) {
  const content = h("input", { type: "number", id: "create-content", name: "content", min: 1, step: 1, required: true,
                               inputmode: "numeric", "aria-describedby": "create-content-help" });
  extras.append(h("div", { class: "field" }, h("label", { for: "create-content" }, h("span", {}, "Content picture (#)")), content,
    h("span", { class: "help", id: "create-content-help" }, "the artwork to paint in the style")));
  if (withStyles) {
    const styles = h("input", { type: "text", id: "create-styles", name: "styles", placeholder: "12,14", required: true,
                                "aria-describedby": "create-styles-help" });
    extras.append(h("div", { class: "field" }, h("label", { for: "create-styles" }, h("span", {}, "Style pictures (#)")), styles,
      h("span", { class: "help", id: "create-styles-help" }, "one to four artworks whose manner it takes, e.g. 12,14")));
  }
  fillFromSelection();
}

function fillFromSelection() {
  const [first, ...rest] = [...selected.keys()];
  const content = extras.querySelector("#create-content"), styles = extras.querySelector("#create-styles");
  if (content && first) content.value = first;
  if (styles && rest.length) styles.value = rest.join(",");
}

/** The style form's pictures as the route takes them: {content, styles}. */
function readInputs() {
  const content = extras.querySelector("#create-content"), styles = extras.querySelector("#create-styles");
  const out = {};
  if (content) out.content = Number(content.value);
  if (styles) out.styles = styles.value.split(/[\s,#]+/).filter(Boolean).map(Number);
  return out;
}

/** "No copies" needs the model's copy-check index: for a model without one (`copy_check: false`) the box is
 *  unticked and off, with the server's note beside it saying why; back on (and ticked) for a model with one. */
function fitCopyCheck(all) {
  const box = fields.querySelector("#create-no_copies");
  if (!box) return;
  const model = all.find(m => m.name === modelBox.dataset.model);
  const off = !!model && model.copy_check === false;
  let note = fields.querySelector("#create-no_copies-note");
  if (off) {
    box.checked = false;
    box.disabled = true;
    if (!note) {
      note = h("span", { class: "help note", id: "create-no_copies-note" });
      box.closest(".stack").append(note);
      box.setAttribute("aria-describedby", [box.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" "));
    }
    note.textContent = model.copy_check_note || `model ${model.name} has no copy-check index`;
  } else if (box.disabled) {
    box.disabled = false;
    box.checked = true;
    note?.remove();
    box.setAttribute("aria-describedby", (box.getAttribute("aria-describedby") || "").replace(/\s*create-no_copies-note/, ""));
  }
}

async function run() {
  error.textContent = "";
  const p = (await pipelines()).find(x => x.name === pipeSelect.value);
  const body = { model: form.querySelector("#create-model").value, ...readInputs(), ...readParams() };
  const button = form.querySelector("#create-go");
  const title = `${p.name} · ${body.model}` + (body.seed !== undefined ? ` · seed ${body.seed}` : "") +
    (body.truncation !== undefined ? ` · truncation ${body.truncation}` : "") +
    (body.content ? ` · #${body.content}` : "") + (body.styles ? ` in the style of ${body.styles.map(i => `#${i}`).join(", ")}` : "");
  await busy(button, async () => {
    try {
      if (p.name === "generate") { await generateQueued(body, { results, tile, title }); return; }
      const out = await api(p.studio_endpoint, { method: "POST", json: body });
      if (!out || !Array.isArray(out.artworks)) { notify(`${p.name}: done.`, "ok"); return; }
      addBatch(title, out.artworks);
      if (out.still_flagged) notify(`${out.still_flagged} picture(s) still look close to a training image after redrawing.`, "info");
    } catch (e) { fail(e, error); }
  });
}

function addBatch(title, arts) {
  document.getElementById("create-empty")?.remove();
  const grid = h("div", { class: "grid" }, arts.map(tile));
  results.prepend(h("section", { class: "batch", "aria-label": title }, h("h2", {}, title, ` — ${arts.length} picture${arts.length === 1 ? "" : "s"}`), grid));
}

function tile(art) {
  return artworkTile(art, { pressed: selected.has(art.id), onpick: toggle });
}

function toggle(art, button) {
  if (selected.has(art.id)) selected.delete(art.id); else selected.set(art.id, art);
  for (const b of results.querySelectorAll(`figure[data-id="${art.id}"] > button`)) b.setAttribute("aria-pressed", String(selected.has(art.id)));
  button.focus();
  updateBar();
}

function clearSelection() {
  selected.clear();
  for (const b of results.querySelectorAll("figure > button[aria-pressed='true']")) b.setAttribute("aria-pressed", "false");
  updateBar();
}

function updateBar() {
  selbar.hidden = selected.size === 0;
  document.getElementById("selcount").textContent = `${selected.size} selected`;
  const mode = breedBox.querySelector("[name=mode]");
  document.getElementById("breed-go").textContent = selected.size === 1 ? "Mutate" : "Breed";
  document.getElementById("morph-go").hidden = selected.size !== 2;
  fillFromSelection();
  // One picture can only mutate; when a second joins, go back to crossover unless the artist chose a mode.
  if (mode && selected.size === 1 && mode.value !== "mutate") { mode.value = "mutate"; mode.dataset.auto = "1"; }
  if (mode && selected.size > 1 && mode.dataset.auto) { mode.value = "crossover"; delete mode.dataset.auto; }
  breedError.textContent = "";
}

async function breed(button) {
  breedError.textContent = "";
  const parents = [...selected.keys()];
  await busy(button, async () => {
    try {
      const out = await api("/api/breed", { method: "POST", json: { parents, ...readBreed() } });
      const params = readBreed();
      addBatch(`children of ${parents.map(i => `#${i}`).join(" × ")} · ${params.mode} · mutation ${params.mutation}`, out.artworks);
      clearSelection();
    } catch (e) { fail(e, breedError); }
  });
}

/** Morph between the two selected pictures: eight frames, each a picture that records both as parents. */
async function morph(button) {
  breedError.textContent = "";
  const parents = [...selected.keys()];
  const model = selected.get(parents[0]).model;
  await busy(button, async () => {
    try {
      const out = await api("/api/interpolate", { method: "POST", json: { model, parents, frames: 8 } });
      addBatch(`morph from #${parents[0]} to #${parents[1]}`, out.artworks);
      clearSelection();
    } catch (e) { fail(e, breedError); }
  });
}

export default { name: "create", title: "Create", build, show };
