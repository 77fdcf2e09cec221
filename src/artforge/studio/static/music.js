// Music: sample melodies from a music model (one slider per attribute the model can be steered along), hear
// them, download their MIDI and WAV; pick two (from the results, the gallery's melodies or an uploaded .mid)
// and morph from one to the other, or pick two or more and breed them. Every melody is a gallery artwork
// whose picture is its piano roll.
import { api, busy, clear, fail, h, imageSrc, me, notify, paramFields, pipelines } from "./core.js";

const picked = new Map();            // artwork id -> artwork
let form, modelSelect, fields, readSample, attrBox, error, results, bar, morphBox, readMorph, breedBox, readBreed,
    barError, uploadInput, modelList = [], shown = false;

export const isMelody = art => !!art && typeof art.pipeline === "string" && art.pipeline.startsWith("music.");

/** An audio player of a melody's WAV and links to its MIDI and WAV files (also used by the gallery viewer). */
export function melodyControls(art) {
  const wav = `/api/artworks/${art.id}/wav`;
  return h("div", { class: "melody-controls" },
    h("audio", { controls: true, preload: "none", src: wav, "aria-label": `Play melody #${art.id}` }),
    h("a", { class: "button", href: `/api/artworks/${art.id}/midi`, download: `melody-${art.id}.mid`,
             title: "The MIDI file, its recipe inside (open it in a DAW)" }, "MIDI"),
    h("a", { class: "button", href: wav, download: `melody-${art.id}.wav`, title: "The audio as a WAV file" }, "WAV"));
}

// The page's own elements, found in its section even while another page is shown (a request that ends
// after the artist moved on still updates this page, not a missing element).
let pageRoot = null;
const byId = id => pageRoot.querySelector(`#${id}`);

function build(root) {
  pageRoot = root;
  modelSelect = h("select", { id: "music-model", name: "model", onchange: renderSliders });
  fields = h("div", { class: "fields" });
  attrBox = h("fieldset", { class: "stack attrs", id: "music-attributes" });
  error = h("p", { class: "form-error", role: "alert" });
  form = h("form", { class: "panel stack music-form", "aria-label": "Sample melodies" },
    h("div", { class: "field" }, h("label", { for: "music-model" }, h("span", {}, "Model")), modelSelect),
    fields, attrBox, error,
    h("button", { class: "primary", type: "submit", id: "music-go", title: "Ctrl+Enter" }, "Sample melodies"));
  form.addEventListener("submit", e => { e.preventDefault(); sample(); });
  uploadInput = h("input", { type: "file", accept: ".mid,.midi,audio/midi", id: "music-upload", hidden: true, onchange: upload });
  const sources = h("div", { class: "panel stack", "aria-label": "Bring melodies" },
    h("h2", {}, "Bring melodies"),
    h("p", { class: "help" }, "Morph or breed your own tunes: upload a MIDI file (its first melody, up to 16 bars), or pick melodies made earlier."),
    h("div", { class: "row" }, uploadInput,
      h("button", { type: "button", id: "music-upload-go", onclick: () => uploadInput.click() }, "Upload a .mid…"),
      h("button", { type: "button", id: "music-gallery", onclick: e => busy(e.currentTarget, fromGallery) }, "From the gallery")));
  results = h("div", { "aria-live": "polite", id: "music-results" });
  morphBox = h("div", { class: "params" });
  breedBox = h("div", { class: "params" });
  barError = h("p", { class: "form-error", role: "alert" });
  bar = h("section", { class: "selbar", "aria-label": "Morph or breed the picked melodies", hidden: true },
    h("div", { class: "row", style: "margin-bottom:10px" }, h("b", { id: "music-picked" }),
      h("span", { class: "grow muted small" }, "A morph goes from the first picked melody to the second; children mix all of them."),
      h("button", { type: "button", class: "ghost", onclick: clearPicks }, "Clear")),
    h("div", { class: "row", style: "align-items:end;gap:22px" },
      h("div", { class: "row", style: "align-items:end" }, morphBox,
        h("button", { type: "button", class: "primary", id: "music-morph", onclick: e => morph(e.currentTarget) }, "Morph")),
      h("div", { class: "row", style: "align-items:end" }, breedBox,
        h("button", { type: "button", id: "music-breed", onclick: e => breed(e.currentTarget) }, "Breed"))),
    barError);
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "music-title", tabindex: "-1" }, "Music"),
      h("p", {}, "Sample melodies, steer them, listen. Click piano rolls to pick them, then morph or breed.")),
    h("div", { class: "split wide-left" }, h("div", {}, form, sources),
      h("div", {}, results,
        h("p", { class: "empty", id: "music-empty" }, "Your melodies will appear here, each with its piano roll, a player and its MIDI and WAV."),
        bar)));
  root.addEventListener("keydown", e => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); form.requestSubmit(); }
  });
}

async function show(args) {
  if (!shown) {
    const [list, pipes] = await Promise.all([api("/api/music/models"), pipelines()]);
    modelList = list.filter(m => m.ready);
    clear(modelSelect, modelList.length ? modelList.map(m => h("option", { value: m.name }, `${m.name} (${m.bars} bars)`))
      : h("option", { value: "" }, "no music model yet"));
    const params = name => (pipes.find(p => p.name === name) || { params: [] }).params;
    readSample = paramFields(fields, params("music.sample"), { n: 4, temperature: 0.5 }, { skip: ["batch_size", "attribute"], id: "music" });
    const count = fields.querySelector("#music-n");
    if (count) count.max = 16;
    readMorph = paramFields(morphBox, params("music.interpolate").filter(p => p.name === "steps"), { steps: 5 }, { id: "morph" });
    const steps = morphBox.querySelector("#morph-steps");
    if (steps) steps.max = 16;
    readBreed = paramFields(breedBox, params("music.breed").filter(p => ["children", "mutation"].includes(p.name)), { children: 4 }, { id: "mbreed" });
    const children = breedBox.querySelector("#mbreed-children");
    if (children) children.max = 16;
    for (const el of bar.querySelectorAll(".params .field:not(.range)")) el.classList.add("narrow");
    renderSliders();
    shown = true;
  }
  if (args.query.toString()) applyQuery(args.query);
  const readOnly = !me.can("editor");
  for (const id of ["music-go", "music-upload-go", "music-morph", "music-breed"]) byId(id).disabled = readOnly;
  if (readOnly) error.textContent = "You are a viewer here: you can listen, not create. Ask the owner for editor rights.";
  else if (!modelList.length) error.textContent = "No music model is ready. Train one: artforge train music DIR --run RUN_DIR --bars 2";
}

/** A melody's settings from the address (the gallery's "Use these settings"): model, count, seed,
 *  temperature, tempo, and the sliders as attr.NAME=amount. */
function applyQuery(query) {
  const model = query.get("model");
  if (model && modelList.some(m => m.name === model) && modelSelect.value !== model) {
    modelSelect.value = model;
    renderSliders();
  }
  if (model && !modelList.some(m => m.name === model)) error.textContent = `Music model ${model} is not available; pick another.`;
  for (const input of attrBox.querySelectorAll("input[data-attribute]")) setInput(input, query.get(`attr.${input.dataset.attribute}`) ?? 0);
  for (const [k, v] of query) {
    const input = k === "model" || k.startsWith("attr.") ? null : fields.querySelector(`[name="${CSS.escape(k)}"]`);
    if (input) setInput(input, v);
  }
  if (query.get("from")) notify(`Melody #${query.get("from")}'s settings are filled in: Sample makes it again, first.`, "ok");
  history.replaceState(null, "", "#/music");     // in the form now; a reload keeps the form as typed
}

function setInput(input, value) {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));         // a slider's number follows
}

/** One slider per attribute of the chosen model, from -3 to 3, 0 in the middle (no steering). */
function renderSliders() {
  const m = modelList.find(x => x.name === modelSelect.value);
  const attrs = m ? m.attributes : [];
  clear(attrBox, h("legend", {}, "Steer"),
    attrs.length ? attrs.map(slider) : h("p", { class: "help" }, "This model has no attribute vectors to steer along."),
    attrs.length ? h("button", { type: "button", class: "ghost small", onclick: () => {
      for (const input of attrBox.querySelectorAll("input[type=range]")) { input.value = 0; input.dispatchEvent(new Event("input")); }
    } }, "Reset to 0") : null);
}

function slider(a) {
  const id = `music-attr-${a.name}`;
  const out = h("output", { for: id }, "0.0");
  const input = h("input", { type: "range", id, name: a.name, min: -3, max: 3, step: 0.1, value: 0, dataset: { attribute: a.name },
                             "aria-describedby": `${id}-help`, oninput: () => { out.textContent = Number(input.value).toFixed(1); } });
  return h("div", { class: "slider-row" },
    h("label", { for: id, title: a.help }, a.name.charAt(0).toUpperCase() + a.name.slice(1)), input, out,
    h("span", { class: "help", id: `${id}-help`, hidden: true }, a.help));
}

function attributes() {
  const out = {};
  for (const input of attrBox.querySelectorAll("input[data-attribute]")) {
    const v = Number(input.value);
    if (v) out[input.dataset.attribute] = v;
  }
  return out;
}

async function sample() {
  error.textContent = "";
  const body = { model: modelSelect.value, ...readSample(), attributes: attributes() };
  await busy(form.querySelector("#music-go"), async () => {
    try {
      const out = await api("/api/music/sample", { method: "POST", json: body });
      const steer = Object.entries(body.attributes).map(([k, v]) => `${k} ${v > 0 ? "+" : ""}${v}`).join(", ");
      addBatch(`${body.model} · seed ${body.seed} · temperature ${body.temperature}${steer ? ` · ${steer}` : ""}`, out.artworks);
    } catch (e) { fail(e, error); }
  });
}

async function upload() {
  const file = uploadInput.files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  await busy(byId("music-upload-go"), async () => {
    try {
      const art = await api("/api/music/upload", { method: "POST", form: data });
      addBatch(`uploaded · ${file.name}`, [art]);
      pick(art, true);
      notify(`Added ${file.name} as melody #${art.id}; it is picked for a morph.`, "ok");
    } catch (e) { fail(e); }
  });
  uploadInput.value = "";
}

async function fromGallery() {
  try {
    const out = await api("/api/artworks?q=music.&limit=24");
    const arts = out.items.filter(isMelody);
    if (!arts.length) { notify("The gallery has no melodies yet.", "info"); return; }
    addBatch("from the gallery", arts);
  } catch (e) { fail(e); }
}

function addBatch(title, arts, morphArt) {
  byId("music-empty")?.remove();
  const section = h("section", { class: "batch", "aria-label": title },
    h("h2", {}, title, ` — ${arts.length} melod${arts.length === 1 ? "y" : "ies"}`),
    morphArt ? card(morphArt, "morph") : null,
    h("div", { class: "grid melodies" }, arts.map(a => card(a))));
  results.prepend(section);
  return section;
}

function card(art, kind) {
  const caption = kind === "morph" ? `#${art.id} · the whole morph ${ends(art)}, every step in turn` : describe(art);
  const label = `Melody #${art.id}${art.seed !== null && art.seed !== undefined ? `, seed ${art.seed}` : ""}`;
  const morph = kind === "morph";
  const button = h("button", { type: "button", "aria-label": morph ? `Morph #${art.id}` : label,
                               title: morph ? "Open in the gallery" : "Pick for a morph or breed",
                               "aria-pressed": morph ? undefined : String(picked.has(art.id)),
                               onclick: () => { if (morph) location.hash = `#/gallery/${art.id}`; else pick(art); } },
    h("img", { src: imageSrc(art), alt: `Piano roll of melody #${art.id}`, loading: "lazy" }));
  // the whole morph's roll (every step stacked) scrolls in its own box, at its own width
  return h("figure", { class: `tile melody${morph ? " morph" : ""}`, dataset: { id: art.id } },
    morph ? h("div", { class: "roll" }, button) : button,
    h("figcaption", {}, h("span", { title: caption }, caption),
      h("a", { href: `#/gallery/${art.id}`, title: "Open in the gallery" }, "gallery")),
    melodyControls(art));
}

function ends(art) {
  const ids = (art.recipe?.parents || []).map(p => p.artwork).filter(Boolean);
  return ids.length === 2 ? `from #${ids[0]} to #${ids[1]}` : "";
}

function describe(art) {
  const p = art.recipe?.params || {};
  if (art.pipeline === "music.sample") return `#${art.id} · seed ${art.seed}`;
  if (art.pipeline === "music.interpolate") return `#${art.id} · step ${(p.index ?? 0) + 1} of ${p.steps}`;
  if (art.pipeline === "music.breed") return `#${art.id} · child ${(p.index ?? 0) + 1}`;
  if (art.pipeline === "music.upload") return `#${art.id} · ${p.filename || "uploaded"}`;
  return `#${art.id}`;
}

function pick(art, on) {
  const want = on === undefined ? !picked.has(art.id) : on;
  if (want) picked.set(art.id, art); else picked.delete(art.id);
  for (const b of results.querySelectorAll(`figure.melody:not(.morph)[data-id="${art.id}"] > button`)) b.setAttribute("aria-pressed", String(want));
  updateBar();
}

function clearPicks() {
  picked.clear();
  for (const b of results.querySelectorAll("figure > button[aria-pressed='true']")) b.setAttribute("aria-pressed", "false");
  updateBar();
}

function updateBar() {
  bar.hidden = picked.size === 0;
  const ids = [...picked.keys()].map(i => `#${i}`);
  byId("music-picked").textContent = `${picked.size} picked${ids.length ? `: ${ids.join(ids.length === 2 ? " → " : ", ")}` : ""}`;
  const editor = me.can("editor");
  byId("music-morph").disabled = !editor || picked.size !== 2;
  byId("music-morph").title = picked.size === 2 ? "" : "Pick exactly two melodies to morph";
  byId("music-breed").disabled = !editor || picked.size < 2;
  barError.textContent = "";
}

async function morph(button) {
  barError.textContent = "";
  const [a, b] = [...picked.keys()];
  await busy(button, async () => {
    try {
      const body = { model: modelSelect.value, a, b, ...readMorph() };
      const out = await api("/api/music/interpolate", { method: "POST", json: body });
      addBatch(`morph #${a} → #${b} · ${body.steps} steps`, out.artworks, out.morph);
      clearPicks();
    } catch (e) { fail(e, barError); }
  });
}

async function breed(button) {
  barError.textContent = "";
  const parents = [...picked.keys()];
  await busy(button, async () => {
    try {
      const params = readBreed();
      const out = await api("/api/music/breed", { method: "POST", json: { model: modelSelect.value, parents, ...params } });
      addBatch(`children of ${parents.map(i => `#${i}`).join(" × ")} · mutation ${params.mutation}`, out.artworks);
      clearPicks();
    } catch (e) { fail(e, barError); }
  });
}

export default { name: "music", title: "Music", build, show };
