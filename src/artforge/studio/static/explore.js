// Explore: sliders along the main directions of a model's latent space (principal components of sampled
// latents, as GANSpace does) with a live preview while dragging. Only one preview request is in flight at a
// time: moves made meanwhile are folded into the next request, so the server never sees a queue of stale
// positions and the picture follows the hand as fast as the model can draw.
import { api, busy, clear, fail, h, me, modelSelect, models, notify, paramFields, pipelines } from "./core.js";

const K = 8;
const LIMIT = 5;
let modelBox, fields, readParams, sliders, stage, preview, error, saveButton, status;
let offsets = [];
let inflight = false, again = false, lastUrl = null, loaded = null;

function build(root) {
  modelBox = h("div", { class: "field" });
  fields = h("div", { class: "stack", oninput: refresh });     // seed, truncation: the explore pipeline's params
  sliders = h("div", { class: "sliders", role: "group", "aria-label": "Latent directions" });
  error = h("p", { class: "form-error", role: "alert" });
  status = h("p", { class: "muted small", "aria-live": "polite" });
  preview = h("img", { alt: "Preview of the current position in latent space", id: "explore-preview" });
  stage = h("div", { class: "stage" }, preview);
  saveButton = h("button", { type: "button", class: "primary", id: "explore-save", title: "Ctrl+Enter", onclick: save }, "Save to gallery");
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "explore-title", tabindex: "-1" }, "Explore"),
      h("p", {}, "Steer a picture along the directions in which the model's pictures vary most.")),
    h("div", { class: "split explore" },
      h("div", { class: "panel stack sticky" }, modelBox, fields,
        h("h3", { style: "margin-top:6px" }, "Directions"), sliders,
        h("div", { class: "row" }, h("button", { type: "button", onclick: reset }, "Reset sliders"), h("span", { class: "grow" }), saveButton),
        error),
      h("div", { class: "stack" }, stage, status)));
  root.addEventListener("keydown", e => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); save(); }
  });
}

const FALLBACK = [{ name: "seed", type: "int", default: 0, min: 0, max: 2147483647, help: "the image to start from" },
                  { name: "truncation", type: "float", default: 1, min: 0, max: 2, help: "shrink the starting latent toward the mean" }];

async function show(args) {
  const [all, pipes] = await Promise.all([models(), pipelines()]);
  if (!readParams || args.query.get("seed")) {
    const declared = pipes.find(p => p.name === "explore")?.params || FALLBACK;
    const values = { truncation: 0.7, ...(readParams ? readParams() : {}) };
    if (args.query.get("seed")) values.seed = Number(args.query.get("seed"));
    clear(fields);
    readParams = paramFields(fields, declared, values, { id: "explore", skip: ["batch_size"] });
  }
  const wanted = args.query.get("model") || modelBox.querySelector("select")?.value;
  const select = modelSelect(all, "gan", wanted, { id: "explore-model", onchange: () => load(select.value) });
  clear(modelBox, h("label", { for: "explore-model" }, h("span", {}, "Model")), select);
  saveButton.disabled = !me.can("editor");
  if (select.value && select.value !== loaded) await load(select.value);
  else if (select.value) refresh();
}

async function load(model) {
  error.textContent = "";
  loaded = model;
  clear(sliders, h("p", { class: "muted small" }, "Finding the main directions…"));
  try {
    const { directions } = await api(`/api/models/${encodeURIComponent(model)}/directions?k=${K}`);
    const top = Math.max(...directions.map(d => d.variance), 1e-9);
    offsets = directions.map(() => 0);
    clear(sliders, directions.map((d, i) => slider(d, i, top)));
    refresh();
  } catch (e) {
    clear(sliders);
    fail(e, error);
  }
}

function slider(d, i, top) {
  const id = `explore-dir-${i}`;
  const out = h("output", { for: id }, "0.0");
  const share = d.variance <= 1 ? `${(d.variance * 100).toFixed(1)} % of the variance` : `variance ${d.variance.toFixed(2)}`;
  const input = h("input", { type: "range", id, min: -LIMIT, max: LIMIT, step: 0.1, value: 0, "aria-describedby": `${id}-var`,
    oninput: () => { offsets[i] = Number(input.value); out.textContent = offsets[i].toFixed(1); refresh(); } });
  return h("div", { class: "slider-row" },
    h("div", {}, h("label", { for: id }, `Direction ${d.index + 1}`),
      d.variance <= 1 ? h("span", { class: "muted small", "aria-hidden": "true" }, ` · ${(d.variance * 100).toFixed(0)}%`) : null,
      h("div", { class: "varbar", id: `${id}-var`, title: share, "aria-label": share, style: `width:${Math.max(6, 100 * d.variance / top)}%` })),
    input, out);
}

function reset() {
  offsets = offsets.map(() => 0);
  for (const [i, input] of [...sliders.querySelectorAll("input[type=range]")].entries()) {
    input.value = 0;
    input.parentElement.querySelector("output").textContent = "0.0";
    offsets[i] = 0;
  }
  refresh();
}

function body() {
  return { model: loaded, ...readParams(), offsets: [...offsets] };
}

/** Ask for a preview of the current position, unless one is being drawn (then ask again when it arrives). */
async function refresh() {
  if (!loaded) return;
  if (inflight) { again = true; return; }
  inflight = true;
  again = false;
  stage.classList.add("busy");
  const started = performance.now();
  try {
    const r = await api("/api/explore", { method: "POST", json: body(), raw: true });
    const url = URL.createObjectURL(await r.blob());
    preview.src = url;
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = url;
    error.textContent = "";
    status.textContent = `seed ${body().seed} · drawn in ${Math.round(performance.now() - started)} ms`;
  } catch (e) {
    fail(e, error);
  } finally {
    inflight = false;
    stage.classList.remove("busy");
    if (again) refresh();
  }
}

async function save() {
  if (!loaded || saveButton.disabled) return;
  error.textContent = "";
  await busy(saveButton, async () => {
    try {
      const art = await api("/api/explore/save", { method: "POST", json: body() });
      notify(`Saved as artwork #${art.id}. `, "ok", h("a", { href: `#/gallery/${art.id}` }, "Open in the gallery"));
    } catch (e) { fail(e, error); }
  });
}

export default { name: "explore", title: "Explore", build, show };
