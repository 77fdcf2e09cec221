// Create's Generate as a job in the queue (kind generate, its own lane beside training): a card per request
// with "k of N pictures", a progress bar and Cancel; the pictures join the card as each chunk lands.
import { api, fail, h, notify } from "./core.js";

const FINAL = ["done", "failed", "cancelled"];

/** Queues `params` (generate's: model, n, seed, truncation, no_copies) and follows the job in a card put at the
 *  top of `results`; `tile(art)` makes each picture's tile. Resolves with the job once it is queued. */
export async function generateQueued(params, { results, tile, title }) {
  const job = await api("/api/jobs", { method: "POST", json: { kind: "generate", params } });
  const card = jobCard(job, title, tile);
  document.getElementById("create-empty")?.remove();
  results.prepend(card.el);
  card.follow();
  return job;
}

function jobCard(job, title, tile) {
  const bar = h("progress", { max: job.steps, value: 0, "aria-label": `Progress of job ${job.id}` });
  const status = h("span", { role: "status", class: "small" });
  const cancel = h("button", { type: "button", class: "ghost", onclick: () => stop(cancel) }, "Cancel");
  const grid = h("div", { class: "grid" });
  const el = h("section", { class: "batch queued-batch", "aria-label": title, dataset: { job: job.id } },
    h("h2", {}, title),
    h("div", { class: "row job-line" }, bar, status, h("span", { class: "grow" }), cancel,
      h("a", { href: "#/jobs", class: "small" }, "Jobs page")),
    grid);
  const shown = new Set();
  let pending = Promise.resolve(), es = null, poll = null, last = null;

  async function stop(button) {
    button.disabled = true;
    try { update(await api(`/api/jobs/${job.id}/cancel`, { method: "POST" })); }
    catch (e) { button.disabled = false; fail(e); }
  }

  /** New pictures in id order (the job keeps its newest ids); fetched once each, added after the others. */
  function land(ids) {
    const fresh = ids.filter(id => !shown.has(id)).sort((a, b) => a - b);
    for (const id of fresh) shown.add(id);
    if (!fresh.length) return pending;
    pending = pending.then(async () => {
      const arts = await Promise.all(fresh.map(id => api(`/api/artworks/${id}`).catch(() => null)));
      grid.append(...arts.filter(Boolean).map(tile));
    });
    return pending;
  }

  function update(j) {
    if (last && FINAL.includes(last.state)) return;
    last = j;
    bar.value = j.step;
    const word = { queued: "waiting its turn", running: "making", cancelling: "cancelling after this chunk",
                   pausing: "pausing after this chunk" }[j.state] || j.state;
    status.textContent = `${j.step} of ${j.steps} pictures · ${word}` + (j.error ? `: ${j.error}` : "");
    land(j.artworks || []);
    if (FINAL.includes(j.state)) finish(j);
  }

  async function finish(j) {
    cancel.hidden = true;
    if (es) es.close();
    if (poll) clearInterval(poll);
    await pending;
    el.dataset.state = j.state;
    const flagged = [...grid.querySelectorAll(".badge.flagged")].length;
    if (flagged) notify(`${flagged} picture(s) still look close to a training image after redrawing.`, "info");
  }

  async function refresh() {
    try { update(await api(`/api/jobs/${job.id}`)); } catch (e) { if (e.status !== 0) fail(e); }
  }

  function follow() {
    update(job);
    es = new EventSource(`/api/jobs/${encodeURIComponent(job.id)}/events`);
    const take = e => { try { update(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    es.addEventListener("progress", take);
    es.addEventListener("end", take);
    es.onerror = () => {                // the studio restarted or the stream broke: ask every two seconds
      if (es.readyState === EventSource.CLOSED && !poll && !FINAL.includes(last?.state)) poll = setInterval(refresh, 2000);
    };
  }

  return { el, follow };
}
