// The studio's shell: who is signed in, the navigation, the router (#/page/arg?query) and the shortcuts.
// Each page is a module with build() (once) and show(args) (every visit); its section is kept between
// visits, so results and slider positions survive a trip to the gallery and back.
import { api, clear, fail, h, me, notify } from "./core.js";
import { setup as watchConnection } from "./connection.js";
import models from "./models.js";
import create from "./create.js";
import explore from "./explore.js";
import gallery from "./gallery.js";
import lineage from "./lineage.js";
import train from "./train.js";
import jobs from "./jobs.js";
import people from "./people.js";
import music from "./music.js";

const PAGES = [models, create, explore, gallery, lineage, train, jobs, people, music];
const byName = Object.fromEntries(PAGES.map(p => [p.name, p]));
const sections = {};
let current = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [name, ...rest] = path.split("/").map(decodeURIComponent);
  return { name: name || "create", path: rest.filter(Boolean), query: new URLSearchParams(query) };
}

async function route() {
  if (!me.user) return;
  const args = parseHash();
  const page = byName[args.name] || create;
  const main = document.getElementById("main");
  if (current && current !== page && current.hide) current.hide();
  if (!sections[page.name]) {
    sections[page.name] = h("section", { class: "page", "aria-labelledby": `${page.name}-title` });
    try { page.build(sections[page.name]); } catch (e) { fail(e); }
  }
  const changed = current !== page;
  current = page;
  if (main.firstElementChild !== sections[page.name]) clear(main, sections[page.name]);
  document.title = `${page.title} · artforge studio`;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.page === page.name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try { await page.show(args); } catch (e) { fail(e); }
  if (changed) {
    const title = document.getElementById(`${page.name}-title`);
    if (title && !main.contains(document.activeElement)) title.focus({ preventScroll: true });
  }
}

function shell() {
  const nav = document.getElementById("nav");
  clear(nav, PAGES.map((p, i) => h("a", { href: `#/${p.name}${p.defaultArgs ? p.defaultArgs() : ""}`, dataset: { page: p.name },
                                          title: `${p.title} (${i + 1})` }, p.title)));
  document.getElementById("me-name").textContent = `${me.user.username} · ${me.user.role}`;
  document.getElementById("topbar").hidden = false;
}

export function signIn(message, kind = "error") {
  document.getElementById("topbar").hidden = true;
  me.user = null;
  for (const k of Object.keys(sections)) delete sections[k];
  current = null;
  const error = h("p", { class: "form-error", role: "alert" }, kind === "error" ? message || "" : "");
  const info = h("p", { class: "muted", role: "status" }, kind !== "error" ? message || "" : "");
  const form = h("form", { "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"), info,
    h("div", { class: "field" }, h("label", { for: "signin-user" }, h("span", {}, "Username")),
      h("input", { id: "signin-user", name: "username", autocomplete: "username", required: true, autofocus: true })),
    h("div", { class: "field" }, h("label", { for: "signin-password" }, h("span", {}, "Password")),
      h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true })),
    error,
    h("button", { class: "primary", type: "submit" }, "Sign in"));
  form.addEventListener("submit", async e => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    error.textContent = "";
    const data = Object.fromEntries(new FormData(form));
    // After failed attempts the studio takes its time to answer (up to 30 s): say it is working on it.
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = "Checking…";
    try {
      await api("/api/login", { method: "POST", json: data });
      await start();
    } catch (err) { fail(err, error); } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = "Sign in";
    }
  });
  clear(document.getElementById("main"), h("div", { class: "signin" },
    h("div", { class: "brand" }, h("span", { class: "mark", "aria-hidden": "true" }), "artforge ", h("small", {}, "studio")),
    h("div", { class: "panel" }, form),
    h("p", { class: "hint" }, "First time here? Open the one-time sign-in link the studio printed when it started.")));
  document.getElementById("signin-user").focus();
}

async function start() {
  try {
    me.user = await api("/api/me");
  } catch (e) {
    signIn(e.status === 401 ? "" : e.message);
    return;
  }
  shell();
  if (!location.hash) history.replaceState(null, "", "#/create");
  await route();
}

function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

function keys(e) {
  if (!me.user || e.altKey || e.metaKey || e.ctrlKey) return;
  if (document.querySelector("dialog[open]") || typing(e)) return;
  const n = Number(e.key);
  if (n >= 1 && n <= PAGES.length) {
    const p = PAGES[n - 1];
    location.hash = `#/${p.name}${p.defaultArgs ? p.defaultArgs() : ""}`;
  } else if (e.key === "/") {
    e.preventDefault();
    if (current !== gallery) location.hash = "#/gallery";
    setTimeout(() => document.getElementById("gallery-q")?.focus(), 60);
  } else if (e.key === "?") {
    document.getElementById("shortcuts").showModal();
  } else return;
  e.preventDefault();
}

document.addEventListener("DOMContentLoaded", () => {
  window.addEventListener("hashchange", route);
  watchConnection();
  document.addEventListener("keydown", keys);
  window.addEventListener("studio:signed-out", e => { if (me.user) signIn(e.detail.message || e.detail, e.detail.kind); });
  document.getElementById("shortcuts-open").addEventListener("click", () => document.getElementById("shortcuts").showModal());
  document.getElementById("signout").addEventListener("click", async () => {
    try { await api("/api/logout", { method: "POST" }); } catch (e) { if (e.status !== 401) notify(e.message); }
    signIn("");
    history.replaceState(null, "", "/");
  });
  start();
});
