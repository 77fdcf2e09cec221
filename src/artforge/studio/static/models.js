// Models: the starter and every run, with its sample grid, training curves and evaluation figures
// (the files the server lists for the model), its dataset, its latest pictures in the gallery and how its
// training went (a failed run says so); runs and uploads you may delete have Delete (with a confirmation).
import { api, artworkTile, busy, clear, confirmDialog, fail, h, me, models, notify, when } from "./core.js";

const FIGURES = {
  "samples/latest.png": ["Latest samples", "the fixed latents, at the last checkpoint", true],
  "loss.png": ["Training curves", "losses by step", false],
  "kid.png": ["KID during training", "lower is closer to the training set", false],
  "eval/samples.png": ["Evaluation samples", "", true],
  "eval/memorization.png": ["Copy check", "each sample next to its nearest training images", false],
};

let list, detail, uploads;

function fileUrl(name, path) {
  return `/api/models/${encodeURIComponent(name)}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

function build(root) {
  list = h("div", { class: "model-list", role: "list" });
  detail = h("div", { class: "stack" });
  uploads = h("section", { "aria-labelledby": "uploads-title", class: "stack", hidden: true });
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "models-title", tabindex: "-1" }, "Models"),
      h("p", {}, "The starter and every run in this studio. Train a new one on the Train page.")),
    h("div", { class: "split" }, h("div", { class: "sticky stack" }, list, uploads), detail));
}

/** The state badge of a run whose training did not simply finish (failed, cancelled, running...). */
function stateBadge(m) {
  return m.state && m.state !== "done" ? h("span", { class: `badge ${m.state}` }, m.state) : null;
}

async function show(args) {
  const all = await models(true);
  const name = args.path[0] || (all[0] && all[0].name);
  clear(list, all.map(m => h("div", { role: "listitem" }, h("a", { href: `#/models/${encodeURIComponent(m.name)}`,
      "aria-current": m.name === name ? "true" : undefined },
    h("div", { class: "row" }, h("b", { class: "grow" }, m.name), stateBadge(m),
      h("span", { class: `badge ${m.ready ? "ok" : ""}` }, m.ready ? (m.family || "ready") : "no weights yet")),
    h("div", { class: "meta" }, [m.arch, m.resolution && `${m.resolution} px`, m.dataset?.images && `${m.dataset.images} images`]
      .filter(Boolean).join(" · "))))));
  const m = all.find(x => x.name === name);
  showUploads();
  if (!m) { clear(detail, h("p", { class: "empty" }, name ? `No model called ${name}.` : "No models yet.")); return; }
  renderDetail(m);
}

/** Delete… for a run the user may delete (their own, or any for owners); disabled, with the reason, while a
 *  job still needs it. */
function deleteRun(m) {
  if (!m.can_delete) return null;
  const button = h("button", { type: "button", class: "danger", "aria-label": `Delete run ${m.name}`,
                               disabled: !!m.in_use, onclick: () => busy(button, async () => {
    const what = m.job ? "Its folder (weights, checkpoints, samples) and its job are removed" : "Its folder (weights, checkpoints, samples) is removed";
    if (!(await confirmDialog(`Delete run ${m.name}? ${what} for everyone. Pictures made with it stay in the gallery. ` +
                              "This cannot be undone.", { title: "Delete this run?", confirm: "Delete" }))) return;
    try {
      await api(`/api/models/${encodeURIComponent(m.name)}`, { method: "DELETE" });
    } catch (e) { fail(e); return; }
    notify(`Deleted run ${m.name}.`, "ok");
    document.getElementById("models-title").focus();          // the button is gone with the run
    if (location.hash === "#/models") await show({ path: [] }); else location.hash = "#/models";
  }) }, "Delete…");
  return button;
}

/** Your uploads (every one for owners), each with Delete…; runs trained on an upload keep working without it. */
async function showUploads() {
  if (!me.can("editor")) { uploads.hidden = true; return; }
  let items;
  try { ({ items } = await api("/api/uploads")); } catch (e) { fail(e); return; }
  uploads.hidden = false;
  clear(uploads, h("h2", { id: "uploads-title", style: "font-size:15px;margin:14px 0 0" }, me.can("owner") ? "Uploads" : "Your uploads"),
    items.length ? h("ul", { class: "stack", style: "list-style:none;padding:0;margin:0", "aria-label": "Uploads" }, items.map(uploadRow))
      : h("p", { class: "muted small" }, "No zips of training images uploaded yet."));
}

function uploadRow(u) {
  const facts = [u.images !== null && `${u.images} images`, u.created && when(u.created),
                 me.can("owner") && (u.owner ? `by ${u.owner}` : "owner unknown")].filter(Boolean).join(" · ");
  const button = h("button", { type: "button", class: "danger", "aria-label": `Delete upload ${u.id}`, disabled: !!u.in_use,
                               title: u.in_use ? `Cannot be deleted now: ${u.in_use}` : undefined,
                               onclick: () => busy(button, async () => {
    if (!(await confirmDialog(`Delete upload ${u.id}? Its images are removed from the studio. Runs trained on it keep working. ` +
                              "This cannot be undone.", { title: "Delete this upload?", confirm: "Delete" }))) return;
    try { await api(`/api/uploads/${encodeURIComponent(u.id)}`, { method: "DELETE" }); } catch (e) { fail(e); return; }
    notify(`Deleted upload ${u.id}.`, "ok");
    await showUploads();
  }) }, "Delete…");
  return h("li", { class: "row" }, h("div", { class: "grow" }, h("div", { class: "mono" }, u.id), h("div", { class: "muted small" }, facts),
    u.in_use ? h("div", { class: "muted small" }, `In use: ${u.in_use}`) : null), button);
}

function renderDetail(m) {
  const ds = m.dataset || {};
  const facts = [["Family", m.family], ["Architecture", m.arch], ["Resolution", m.resolution && `${m.resolution} px`],
                 ["Latent size", m.z_dim], ["Training images", ds.images], ["Licence", ds.licence], ["Consent", ds.consent],
                 ["Copy check", m.copy_check ? "on (training index present)" : "not available for this model"],
                 ["Dataset hash", ds.manifest_sha256 && ds.manifest_sha256.slice(0, 16) + "…"],
                 ["Training", m.state && `${m.state} (job ${m.job})`], ["Started by", m.author], ["Error", m.error]]
    .filter(([, v]) => v !== undefined && v !== null && v !== "");
  const image = m.family === "gan" && m.ready;
  const figures = m.files.filter(f => f in FIGURES).map(f => h("figure", { class: "figure" },
    h("a", { href: fileUrl(m.name, f), target: "_blank", rel: "noopener" },
      h("img", { src: fileUrl(m.name, f), alt: `${FIGURES[f][0]} of ${m.name}`, class: FIGURES[f][2] ? "photo" : "", loading: "lazy" })),
    h("figcaption", {}, h("b", {}, FIGURES[f][0]), FIGURES[f][1] ? ` — ${FIGURES[f][1]}` : "")));
  const report = h("div");
  const recent = h("div", { class: "grid small" });
  clear(detail,
    h("div", { class: "panel" },
      h("div", { class: "row" }, h("h2", { class: "grow", style: "font-size:18px" }, m.name),
        image ? h("a", { class: "button primary", href: `#/create?model=${encodeURIComponent(m.name)}` }, "Create with it") : null,
        image ? h("a", { class: "button", href: `#/explore?model=${encodeURIComponent(m.name)}` }, "Explore") : null,
        h("a", { class: "button", href: `#/gallery?model=${encodeURIComponent(m.name)}` }, "Its gallery"),
        deleteRun(m)),
      m.can_delete && m.in_use ? h("p", { class: "muted small", id: "model-in-use" }, `Cannot be deleted now: ${m.in_use}.`) : null,
      h("dl", { class: "facts", style: "margin-top:12px" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]))),
    figures.length ? h("div", { class: "figures" }, figures)
      : h("p", { class: "empty" }, "No sample grid or curves saved for this model. ",
          image ? h("a", { href: `#/create?model=${encodeURIComponent(m.name)}` }, "Make some pictures with it.") : ""),
    report,
    h("section", { "aria-label": `Recent pictures from ${m.name}` }, h("h3", { style: "margin:6px 0 10px" }, "Recent in the gallery"), recent));
  if (m.files.includes("eval/report.md")) {
    fetch(fileUrl(m.name, "eval/report.md")).then(r => r.ok ? r.text() : "").then(text => {
      if (text) clear(report, h("details", { class: "panel" }, h("summary", {}, "Evaluation report"), h("pre", { class: "report" }, text)));
    });
  }
  api(`/api/artworks?model=${encodeURIComponent(m.name)}&limit=12`).then(({ items }) => {
    clear(recent, items.length ? items.map(a => artworkTile(a, { onpick: () => { location.hash = `#/gallery/${a.id}?model=${encodeURIComponent(m.name)}`; } }))
      : h("p", { class: "muted small" }, "Nothing yet."));
  }).catch(e => fail(e));
}

export default { name: "models", title: "Models", build, show };
