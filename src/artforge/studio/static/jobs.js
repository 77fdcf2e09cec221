// Jobs: the one queue of training runs and long generations, in order, visible to everyone; refreshed
// every two seconds while the page is open.
import { api, clear, duration, h, when } from "./core.js";
import { jobControls, stateBadge } from "./train.js";

let body, note, timer = null;

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
  await refresh();
}

function hide() { clearTimeout(timer); timer = null; }

async function refresh() {
  clearTimeout(timer);
  try {
    const { items } = await api("/api/jobs");
    clear(body, items.length ? items.map(row)
      : h("tr", {}, h("td", { colspan: 9, class: "empty", style: "border:0" }, "No jobs yet. Start a training run from the Train page.")));
    note.textContent = "";
  } catch (e) {
    clear(body);
    note.textContent = `The job queue is not available: ${e.message}`;
    return;
  }
  if (location.hash.startsWith("#/jobs")) timer = setTimeout(refresh, 2000);
}

function row(job) {
  const link = job.kind === "train" ? h("a", { href: `#/train/${job.id}` }, job.name || `job ${job.id}`)
    : h("a", { href: `#/gallery?model=${encodeURIComponent(job.name || "")}` }, `${job.steps} pictures from ${job.name}`);
  return h("tr", { dataset: { id: job.id } },
    h("td", { class: "muted" }, job.id),
    h("td", {}, link, job.error ? h("div", { class: "form-error small" }, job.error) : null),
    h("td", {}, job.kind),
    h("td", {}, stateBadge(job)),
    h("td", {}, h("progress", { max: job.steps || 1, value: job.step || 0, "aria-label": `Progress of ${job.name || job.id}` }),
      h("div", { class: "small muted" }, `${job.step ?? 0} / ${job.steps ?? "?"}`)),
    h("td", {}, job.state === "running" ? duration(job.eta_s) : "–"),
    h("td", {}, job.author || "—"),
    h("td", { class: "muted", title: job.created }, when(job.created)),
    h("td", {}, jobControls(job, () => refresh(), true)));
}

export default { name: "jobs", title: "Jobs", build, show, hide };
