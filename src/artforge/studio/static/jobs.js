// Jobs: the one queue of training runs and long generations, in order, visible to everyone; refreshed
// every two seconds while the page is open.
import { api, clear, duration, h, when } from "./core.js";
import { jobControls, jobError, stateBadge } from "./train.js";

let body, note, timer = null, last = null;

function build(root) {
  body = h("tbody");
  note = h("p", { class: "muted small", "aria-live": "polite" });
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "jobs-title", tabindex: "-1" }, "Jobs"),
      h("p", {}, "Everything the studio is doing or will do next, in order. Jobs survive a restart of the studio."),
      h("span", { class: "grow" }), h("a", { class: "button primary", href: "#/train" }, "New training run")),
    h("div", { class: "panel", style: "padding:0" },
      h("table", { "aria-label": "Job queue" },
        h("thead", {}, h("tr", {}, ["#", "Job", "Kind", "State", "Progress", "Time left", "By", "Queued", ""].map(t => h("th", { scope: "col" }, t)))),
        body)),
    note);
}

async function show() {
  window.addEventListener("studio:connection", reconnected);
  await refresh();
}

function hide() {
  clearTimeout(timer);
  timer = null;
  window.removeEventListener("studio:connection", reconnected);
}

function reconnected(e) { if (e.detail.online) refresh(); else if (last) render(last, true); }

/** The list, again every two seconds while the page is shown; while the studio does not answer, the last
 *  list stays, dimmed, its states unknown. */
async function refresh() {
  clearTimeout(timer);
  try {
    last = (await api("/api/jobs")).items;
    render(last, false);
    note.textContent = "";
  } catch (e) {
    if (e.status === 0 && last) render(last, true);
    else clear(body);
    note.textContent = e.status === 0 ? "The studio does not answer: this list may be out of date."
      : `The job queue is not available: ${e.message}`;
  }
  if (location.hash.startsWith("#/jobs")) timer = setTimeout(refresh, 2000);
}

function render(items, stale) {
  body.closest("table").classList.toggle("stale", stale);
  clear(body, items.length ? items.map(j => row(j, stale))
    : h("tr", {}, h("td", { colspan: 9, class: "empty", style: "border:0" }, "No jobs yet. Start a training run from the Train page.")));
}

function row(job, stale) {
  const link = job.kind === "train" ? h("a", { href: `#/train/${job.id}` }, job.name || `job ${job.id}`)
    : h("a", { href: `#/gallery?model=${encodeURIComponent(job.name || "")}` }, `${job.steps} pictures from ${job.name}`);
  const error = jobError(job);
  return h("tr", { dataset: { id: job.id } },
    h("td", { class: "muted" }, job.id),
    h("td", {}, link, error ? h("div", { class: "form-error small" }, error) : null),
    h("td", {}, job.kind),
    h("td", {}, stateBadge(job, { stale })),
    h("td", {}, h("progress", { max: job.steps || 1, value: job.step || 0, "aria-label": `Progress of ${job.name || job.id}` }),
      h("div", { class: "small muted" }, `${job.step ?? 0} / ${job.steps ?? "?"}`)),
    h("td", {}, job.state === "running" && !stale ? duration(job.eta_s) : "–"),
    h("td", {}, job.author || "—"),
    h("td", { class: "muted", title: job.created }, when(job.created)),
    h("td", {}, jobControls(job, () => refresh(), true)));
}

export default { name: "jobs", title: "Jobs", build, show, hide };
