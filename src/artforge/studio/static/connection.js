// Whether the studio answers. A request that gets no answer at all (the studio stopped, the network went
// away) marks the connection lost: a banner says so, and that what the page shows may be out of date, and
// /api/me is asked every few seconds until an answer comes, which clears it. Pages listen for
// "studio:connection" (detail.online) to mark their live views stale, and to refresh when it is back.

const RETRY_MS = 2000;
let lost = false, timer = null, since = null;

export function isOffline() { return lost; }

/** A request got no answer. */
export function noAnswer() {
  if (lost) return;
  lost = true;
  since = new Date();
  show();
  announce(false);
  retry();
}

/** A request got an answer (any status: the studio is there). */
export function answered() {
  if (!lost) return;
  lost = false;
  clearTimeout(timer);
  timer = null;
  document.getElementById("offline").hidden = true;
  announce(true);
}

function announce(online) {
  window.dispatchEvent(new CustomEvent("studio:connection", { detail: { online } }));
}

function show() {
  const box = document.getElementById("offline");
  box.querySelector("[data-since]").textContent = since.toLocaleTimeString();
  box.hidden = false;
}

function retry() {
  clearTimeout(timer);
  timer = setTimeout(probe, RETRY_MS);
}

/** Asks the studio whether it is there; an answer ends the lost state, none tries again later. */
export async function probe() {
  let r;
  try {
    r = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
  } catch {
    if (lost) retry();
    return;
  }
  answered();
  if (r.status === 401) window.dispatchEvent(new CustomEvent("studio:signed-out", { detail: "Your session ended while the studio was away. Sign in again." }));
}

export function setup() {
  document.getElementById("offline-retry").addEventListener("click", probe);
}
