// Gallery: every output, searchable by text, model, seed, tag, author and date; a viewer with the recipe,
// author, favourite, tags, family tree, delete (with confirmation) and download with the recipe kept,
// redacted field by field, or stripped. The filters live in the address (#/gallery?seed=7), so a search can
// be bookmarked or shared. Boards (boards.js): each person's own folders, picked above the filters.
import { api, artworkTile, busy, clear, confirmDialog, fail, h, imageSrc, me, models, notify, when } from "./core.js";
import { isMelody, melodyControls } from "./music.js";
import { Selection } from "./gallery-select.js";
import { Boards } from "./boards.js";

const PAGE = 48;
const FILTERS = ["q", "model", "seed", "tag", "author", "since", "until", "favourite", "board"];
let filterForm, grid, count, more, viewer, items = [], total = 0, lastQuery = null, timer = null, openId = null, picks, selectButton, boards;

function build(root) {
  const f = (name, label, input) => h("div", { class: "field" }, h("label", { for: `gallery-${name}` }, h("span", {}, label)), input);
  filterForm = h("form", { class: "filters", role: "search", "aria-label": "Search the gallery" },
    f("q", "Search", h("input", { id: "gallery-q", name: "q", type: "search", placeholder: "text in the recipe, model or tags", title: "/" })),
    f("model", "Model", h("select", { id: "gallery-model", name: "model" }, h("option", { value: "" }, "any model"))),
    f("seed", "Seed", h("input", { id: "gallery-seed", name: "seed", type: "number", min: 0, step: 1, inputmode: "numeric" })),
    f("tag", "Tag", h("input", { id: "gallery-tag", name: "tag", list: "gallery-tags", autocomplete: "off" })),
    f("author", "Author", h("input", { id: "gallery-author", name: "author", autocomplete: "off" })),
    f("since", "From", h("input", { id: "gallery-since", name: "since", type: "date" })),
    f("until", "To", h("input", { id: "gallery-until", name: "until", type: "date" })),
    h("label", { class: "field check", for: "gallery-favourite" },
      h("input", { id: "gallery-favourite", name: "favourite", type: "checkbox", value: "true" }), h("span", {}, "Favourites only")),
    h("datalist", { id: "gallery-tags" }));
  boards = new Boards({ changed: () => { clearTimeout(timer); search(); } });
  filterForm.append(boards.input);
  filterForm.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => search(), 250); });
  filterForm.addEventListener("submit", e => { e.preventDefault(); clearTimeout(timer); search(); });
  count = h("p", { class: "count", "aria-live": "polite", id: "gallery-count" });
  grid = h("div", { class: "grid", id: "gallery-grid" });
  more = h("button", { type: "button", hidden: true, onclick: e => busy(e.currentTarget, () => load(items.length)) }, "Show more");
  viewer = h("dialog", { class: "viewer", "aria-labelledby": "viewer-title" });
  viewer.addEventListener("close", () => {
    // The event comes a moment after closing: by then another picture may be open, or another page shown.
    if (viewer.open) return;
    if (viewing(openId)) history.replaceState(null, "", `#/gallery${queryString()}`);
    openId = null;
  });
  viewer.addEventListener("keydown", viewerKeys);
  picks = new Selection({ shown: () => items, changed: markPicked, updated: replaceTile, boards,
                          reload: () => { lastQuery = null; boards.refresh(); search(); } });
  selectButton = h("button", { type: "button", class: "toggle", id: "gallery-select", "aria-pressed": "false",
                               title: "pick several pictures to tag, favourite, download, breed or delete them together",
                               onclick: () => { picks.setActive(!picks.active()); } }, "Select");
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "gallery-title", tabindex: "-1" }, "Gallery"),
      h("p", {}, "Everything made in this studio, by everyone, newest first."),
      h("span", { class: "grow" }), selectButton,
      me.can("editor") ? uploadButton() : null),
    boards.el, filterForm, count, grid, h("div", { class: "row", style: "justify-content:center;margin-top:16px" }, more), picks.el, viewer);
}

/** Select mode on the tiles: each picture's button says whether it is picked. */
function markPicked() {
  selectButton.setAttribute("aria-pressed", String(picks.active()));
  for (const b of grid.querySelectorAll("figure.tile[data-id] > button")) {
    if (picks.active()) b.setAttribute("aria-pressed", String(picks.has(Number(b.parentElement.dataset.id))));
    else b.removeAttribute("aria-pressed");
  }
}

function uploadButton() {
  const input = h("input", { type: "file", accept: "image/*", id: "gallery-upload", hidden: true, onchange: async () => {
    const file = input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    try {
      const art = await api("/api/artworks/upload", { method: "POST", form });
      notify(`Added ${file.name} as artwork #${art.id}.`, "ok");
      lastQuery = null;
      search();
    } catch (e) { fail(e); }
    input.value = "";
  } });
  return h("span", {}, input, h("button", { type: "button", onclick: () => input.click() }, "Add a picture…"));
}

/** Whether the address shows the viewer (for picture `id`, if given). */
function viewing(id) {
  const m = location.hash.match(/^#\/gallery\/(\d+)(?:\?|$)/);
  return !!m && (id === undefined || Number(m[1]) === Number(id));
}

function queryString() {
  const data = new FormData(filterForm);
  const q = new URLSearchParams();
  for (const name of FILTERS) { const v = data.get(name); if (v) q.set(name, v); }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function show(args) {
  // image models and melody models (the melody starters are not in /api/models)
  const [images, melodies] = await Promise.all([models(), api("/api/music/models").catch(() => [])]);
  const names = [...new Set([...images, ...melodies].map(m => m.name))];
  const select = filterForm.querySelector("#gallery-model");
  const keep = args.query.get("model") || select.value;
  clear(select, h("option", { value: "" }, "any model"), names.map(n => h("option", { value: n }, n)));
  await boards.refresh();
  for (const name of FILTERS) {
    const el = filterForm.elements[name];
    const v = args.query.get(name) || "";
    if (el.type === "checkbox") el.checked = v === "true"; else el.value = name === "model" ? keep || "" : v;
  }
  boards.set(Number(args.query.get("board")) || null);
  api("/api/tags").then(tags => clear(document.getElementById("gallery-tags"), tags.map(t => h("option", { value: t.tag }))))
    .catch(() => {});
  if (queryString() !== lastQuery) await search();
  const id = Number(args.path[0]);
  if (id) await open(id); else if (viewer.open) viewer.close();
}

function hide() { if (viewer.open) viewer.close(); }

async function search() {
  lastQuery = queryString();
  if (!viewing()) history.replaceState(null, "", `#/gallery${lastQuery}`);
  await load(0);
}

async function load(offset) {
  const q = new URLSearchParams(lastQuery.slice(1));
  if (q.get("until")) {             // a date picks the whole day: until the start of the next one
    const d = new Date(`${q.get("until")}T00:00:00`);
    d.setDate(d.getDate() + 1);
    q.set("until", d.toISOString());
  }
  if (q.get("since")) q.set("since", new Date(`${q.get("since")}T00:00:00`).toISOString());
  q.set("limit", PAGE);
  q.set("offset", offset);
  try {
    const out = await api(`/api/artworks?${q}`);
    total = out.total;
    items = offset ? items.concat(out.items) : out.items;
    const tiles = out.items.map(tile);
    if (offset) grid.append(...tiles);
    else clear(grid, tiles.length ? tiles : h("p", { class: "empty", style: "grid-column:1/-1" },
      lastQuery === `?board=${boards.value()}` ? "This board is empty: pick pictures with Select, then Add to board."
        : lastQuery ? "Nothing matches these filters." : "Nothing here yet. Make something on the Create page."));
    const onBoard = boards.current() && lastQuery === `?board=${boards.value()}` ? ` on “${boards.current().name}”` : null;
    count.textContent = `${total} picture${total === 1 ? "" : "s"}${onBoard || (lastQuery ? " match" + (total === 1 ? "es" : "") : "")}`;
    more.hidden = items.length >= total;
  } catch (e) { fail(e); }
}

function tile(art) {
  const fig = artworkTile(art, { pressed: picks.active() ? picks.has(art.id) : undefined,
                           onpick: (a, button) => {
                             if (!picks.active()) { location.hash = `#/gallery/${a.id}${lastQuery}`; return; }
                             picks.toggle(a);
                             button.focus();
                           },
                           extra: h("span", { title: `made by ${art.author || "a removed account"}` }, art.author || "—") });
  if (isMelody(art)) fig.classList.add("melody");       // a piano roll: shown whole, not cropped square
  return fig;
}

async function open(id) {
  let art;
  try { art = await api(`/api/artworks/${id}`); } catch (e) { fail(e); return; }
  if (!viewing(id)) return;                  // another picture (or page) was asked for meanwhile
  openId = id;
  render(art);
  if (!viewer.open) viewer.showModal();
}

function neighbour(step) {
  const i = items.findIndex(a => a.id === openId);
  const next = items[i + step];
  if (i >= 0 && next) location.hash = `#/gallery/${next.id}${lastQuery}`;
}

function viewerKeys(e) {
  if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "ArrowLeft") neighbour(-1);
  else if (e.key === "ArrowRight") neighbour(1);
  else if (e.key === "f" && me.can("editor")) viewer.querySelector("#viewer-fav")?.click();
  else if (e.key === "l") { viewer.close(); location.hash = `#/lineage/${openId}`; }
  else return;
  e.preventDefault();
}

/** Re-draws the viewer with an answer from the server, unless another picture was opened meanwhile; keeps
the keyboard focus on the same control (the old one is replaced). */
function rerender(art) {
  if (openId !== art.id) return;
  const focused = viewer.contains(document.activeElement) ? document.activeElement.id : null;
  render(art);
  if (focused) document.getElementById(focused)?.focus();
}

function render(art) {
  const editor = me.can("editor");
  const mine = art.author_id === me.user.id || me.can("owner");
  const fact = (k, v) => v === null || v === undefined || v === "" ? [] : [h("dt", {}, k), h("dd", {}, v)];
  const parents = art.recipe?.parents || [];
  const parentLinks = parents.filter(p => p.artwork).map(p => h("a", { href: `#/gallery/${p.artwork}${lastQuery}` }, `#${p.artwork} `));
  const fav = h("button", { type: "button", class: "toggle", id: "viewer-fav", "aria-pressed": String(art.favourite), title: "F",
    onclick: async () => {
      try { rerender(await api(`/api/artworks/${art.id}/favourite`, { method: "PUT", json: { favourite: !art.favourite } })); refreshTile(art.id); }
      catch (e) { fail(e); }
    } }, art.favourite ? "★ Favourite" : "☆ Favourite");
  const tagInput = h("input", { id: "viewer-tag", name: "tag", placeholder: "e.g. sunset", maxlength: 40, autocomplete: "off", list: "gallery-tags" });
  const tagForm = h("form", { class: "with-button", "aria-label": "Add a tag" },
    h("label", { for: "viewer-tag", class: "muted small", style: "align-self:center" }, "Add tag"), tagInput, h("button", { type: "submit" }, "Add"));
  tagForm.addEventListener("submit", async e => {
    e.preventDefault();
    const tags = tagInput.value.split(",").map(t => t.trim()).filter(Boolean);
    if (!tags.length) return;
    try { rerender(await api(`/api/artworks/${art.id}/tags`, { method: "POST", json: { tags } })); viewer.querySelector("#viewer-tag")?.focus(); }
    catch (err) { fail(err); }
  });
  const chips = h("div", { class: "chips" }, art.tags.length ? art.tags.map(t => h("span", { class: "chip" },
    h("a", { href: `#/gallery?tag=${encodeURIComponent(t)}`, onclick: () => viewer.close() }, t),
    editor ? h("button", { type: "button", "aria-label": `Remove tag ${t}`, onclick: async () => {
      try { rerender(await api(`/api/artworks/${art.id}/tags/${encodeURIComponent(t)}`, { method: "DELETE" })); viewer.querySelector("#viewer-tag")?.focus(); }
      catch (e) { fail(e); }
    } }, "×") : null)) : h("span", { class: "muted small" }, "No tags yet."));
  const del = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmDialog(`Delete artwork #${art.id}? Its picture and recipe are removed for everyone. This cannot be undone.`,
                              { title: "Delete this picture?", confirm: "Delete" }))) return;
    try {
      await api(`/api/artworks/${art.id}`, { method: "DELETE" });
      notify(`Deleted artwork #${art.id}.`, "ok");
      viewer.close();
      lastQuery = null;
      boards.refresh();
      search();
    } catch (e) { fail(e); }
  } }, "Delete…");
  const image = h("img", { src: imageSrc(art), alt: `Artwork #${art.id}` });
  clear(viewer,
    h("div", { class: "viewer-body" },
      h("div", { class: "viewer-image" }, image,
        h("div", { class: "viewer-nav" },
          h("button", { type: "button", "aria-label": "Previous picture", title: "←", onclick: () => neighbour(-1) }, "←"),
          h("button", { type: "button", "aria-label": "Next picture", title: "→", onclick: () => neighbour(1) }, "→"))),
      h("div", { class: "viewer-side" },
        h("div", { class: "row" }, h("h2", { id: "viewer-title", class: "grow", style: "font-size:17px" }, `Artwork #${art.id}`),
          h("button", { type: "button", class: "ghost", "aria-label": "Close", onclick: () => viewer.close() }, "✕")),
        h("dl", { class: "facts" }, fact("Author", art.author || "—"), fact("Made", `${when(art.created)} (${new Date(art.created).toLocaleString()})`),
          fact("Model", art.model), fact("Pipeline", art.pipeline), fact("Seed", art.seed),
          fact("Truncation", art.recipe?.params?.truncation), fact("Parents", parentLinks.length ? parentLinks : null)),
        isMelody(art) ? melodyControls(art) : null,
        h("div", { class: "row" }, editor ? fav : null,
          h("a", { class: "button", href: `#/lineage/${art.id}`, title: "L", onclick: () => viewer.close() }, "Family tree"),
          art.seed !== null && art.pipeline === "generate"
            ? h("a", { class: "button", href: `#/explore?model=${encodeURIComponent(art.model)}&seed=${art.seed}`, onclick: () => viewer.close() }, "Explore from here") : null,
          editor ? remixLink(art) : null),
        h("section", { "aria-label": "Tags", class: "stack", style: "gap:8px" }, h("h3", {}, "Tags"), chips, editor ? tagForm : null),
        download(art),
        claimedBox(art),
        h("details", {}, h("summary", {}, "Recipe"), h("pre", { class: "recipe" }, JSON.stringify(ownRecipe(art), null, 2))),
        editor && mine ? h("div", { class: "row end" }, del) : null)));
}

/** The recipe the studio vouches for: an uploaded file's claim (`claimed`) is shown on its own, not in it. */
function ownRecipe(art) {
  if (!art.recipe || art.recipe.verified !== false) return art.recipe;
  const { claimed, ...own } = art.recipe;
  return own;
}

/** An uploaded picture's recipe as its file tells it (`verified: false`): anyone can write any recipe into a
 *  file, so it stands apart under a label that says so, never as the artwork's own model or seed. */
function claimedBox(art) {
  const claim = art.recipe?.verified === false ? art.recipe.claimed : null;
  if (!claim || typeof claim !== "object") return null;
  const p = claim.params || {};
  const model = typeof claim.model === "object" && claim.model ? claim.model.name ?? claim.model.arch : claim.model;
  const fact = (k, v) => v === null || v === undefined || v === "" ? [] : [h("dt", {}, k), h("dd", {}, String(v))];
  return h("section", { class: "claimed stack", "aria-labelledby": "viewer-claimed", style: "gap:8px" },
    h("h3", { id: "viewer-claimed" }, "Recipe claimed by the file, not verified"),
    h("p", { class: "small muted" }, "The file says it was made like this. The studio did not make it and cannot check it: " +
      "the model, seed and settings below are the file's word only."),
    h("dl", { class: "facts" }, fact("Claimed model", model), fact("Claimed pipeline", claim.pipeline),
      fact("Claimed seed", p.image_seed ?? p.seed), fact("Claimed licence", claim.dataset?.licence)),
    h("details", {}, h("summary", { class: "small" }, "The claimed recipe in full"),
      h("pre", { class: "recipe" }, JSON.stringify(claim, null, 2))));
}

/** "Use these settings": the Create page with this picture's recipe filled in: a generated picture's model,
 *  seed (its own, so it comes first), count, truncation and copy check; a bred one's parents picked and its
 *  breeding settings; a sampled melody's on the Music page, sliders too. Nothing for recipes neither page
 *  takes (uploads, morphs). */
function remixLink(art) {
  const href = remixAddress(art);
  return href ? h("a", { class: "button", href, title: "open this picture's settings to make more like it (remix)",
                         onclick: () => viewer.close() }, "Use these settings") : null;
}

function remixAddress(art) {
  const p = art.recipe?.params || {};
  const q = new URLSearchParams({ model: art.model || "", from: art.id });
  const own = art.seed ?? p.image_seed ?? p.seed ?? 0;         // this picture's own seed: it comes out first
  const copy = (keys, prefix = "") => { for (const k of keys) if (p[k] !== undefined && p[k] !== null) q.set(prefix + k, p[k]); };
  if (art.pipeline === "generate") {
    q.set("seed", own);
    copy(["n", "truncation", "no_copies"]);
    return `#/create?pipeline=generate&${q}`;
  }
  if (art.pipeline === "breed") {
    const parents = (art.recipe?.parents || []).map(x => x.artwork).filter(Boolean);
    if (!parents.length) return null;
    q.set("parents", parents.join(","));
    copy(["mode", "n", "seed", "mutation"], "breed.");
    return `#/create?pipeline=generate&${q}`;
  }
  if (art.pipeline === "music.sample") {
    q.set("seed", own);
    copy(["n", "temperature", "bpm"]);
    for (const part of String(p.attribute || "").split(",")) {
      const [name, amount] = part.split("=");
      if (name && amount) q.set(`attr.${name}`, amount);
    }
    return `#/music?${q}`;
  }
  return null;
}

function refreshTile(id) {
  api(`/api/artworks/${id}`).then(replaceTile).catch(() => {});
}

function replaceTile(art) {
  const i = items.findIndex(a => a.id === art.id);
  if (i >= 0) items[i] = art;
  const old = grid.querySelector(`figure[data-id="${art.id}"]`);
  if (old) old.replaceWith(tile(art));
}

function paths(d, prefix = "", depth = 0) {
  return Object.entries(d).flatMap(([k, v]) => [prefix + k,
    ...(v && typeof v === "object" && !Array.isArray(v) && k !== "config" && depth < 2 ? paths(v, `${prefix}${k}.`, depth + 1) : [])]);
}

function download(art) {
  const choice = name => h("label", { class: "field check" },
    h("input", { type: "radio", name: `recipe-${art.id}`, value: name, checked: name === "keep", onchange: update }),
    h("span", {}, { keep: "Keep the recipe", redact: "Redact fields", strip: "Strip the recipe" }[name]));
  const fields = h("div", { class: "redact-fields", hidden: true, role: "group", "aria-label": "Fields to redact" },
    paths(art.recipe || {}).filter(p => p !== "redacted").map(p => h("label", { class: "field check" },
      h("input", { type: "checkbox", value: p, checked: ["model.path", "created"].includes(p), onchange: update }), h("span", { class: "mono" }, p))));
  const line = h("p", { class: "form-error", role: "alert" });
  // A melody's picture is its piano roll: say so (its MIDI and WAV have their own links above).
  const button = h("button", { type: "button", class: "primary", onclick: e => busy(e.currentTarget, fetchFile) },
    isMelody(art) ? "Download the piano roll (PNG)" : "Download PNG");
  const box = h("fieldset", {}, h("legend", {}, "Download"), h("div", { class: "row" }, choice("keep"), choice("redact"), choice("strip")), fields,
    h("div", { class: "row", style: "margin-top:10px" }, button, line));
  function mode() { return box.querySelector("input[type=radio]:checked").value; }
  function chosen() {
    const all = [...fields.querySelectorAll("input:checked")].map(i => i.value);
    return all.filter(p => !all.some(q => p !== q && p.startsWith(q + ".")));
  }
  function update() {
    fields.hidden = mode() !== "redact";
    button.disabled = mode() === "redact" && chosen().length === 0;
  }
  async function fetchFile() {
    line.textContent = "";
    const q = new URLSearchParams({ recipe: mode() });
    if (mode() === "redact") q.set("fields", chosen().join(","));
    try {
      const r = await api(`/api/artworks/${art.id}/download?${q}`, { raw: true });
      const url = URL.createObjectURL(await r.blob());
      const a = h("a", { href: url, download: `artwork-${art.id}${isMelody(art) ? "-piano-roll" : ""}${mode() === "keep" ? "" : "-" + mode()}.png`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { fail(e, line); }
  }
  return box;
}

export default { name: "gallery", title: "Gallery", build, show, hide };
