// The studio's shared pieces: calling the REST API, building elements, notices, dialogs, and forms built
// from a pipeline's declared parameters (so a new pipeline gets its form without new form code).

import { answered, isOffline, noAnswer } from "./connection.js";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)artforge_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

/** fetch + the CSRF header on changes + the server's own message on failure (ApiError). */
export async function api(path, { method = "GET", json, form, raw = false, signal } = {}) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  else if (form) body = form;
  let r;
  try {
    r = await fetch(path, { method, headers, body, signal, credentials: "same-origin" });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    noAnswer();
    throw new ApiError(0, "The studio did not answer. Is it still running?");
  }
  answered();
  if (!r.ok) {
    const err = new ApiError(r.status, await errorMessage(r));
    if (r.status === 401 && path !== "/api/me" && path !== "/api/login") {
      window.dispatchEvent(new CustomEvent("studio:signed-out", { detail: err.message }));
    }
    throw err;
  }
  if (raw) return r;
  const type = r.headers.get("content-type") || "";
  return type.includes("json") ? r.json() : r;
}

async function errorMessage(r) {
  const text = await r.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail.map(d => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    }
  } catch { /* not JSON: fall through */ }
  return text.trim().slice(0, 300) || `${r.status} ${r.statusText}`;
}

/** document.createElement with attributes, listeners (onclick...) and children (strings become text). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  return dress(el, props, children);
}

/** The same for SVG elements. */
export function s(tag, props = {}, ...children) {
  return dress(document.createElementNS("http://www.w3.org/2000/svg", tag), props, children);
}

function dress(el, props, children) {
  let value;
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k === "value") value = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** A short notice in the corner; errors are alerts (read out at once), others polite status messages. One
 *  at a time: a new notice replaces the one shown, so they never pile up over the pictures. */
export function notify(message, kind = "error", ...extra) {
  const box = document.getElementById("notices");
  const el = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", {}, message, ...extra),
    h("button", { type: "button", class: "ghost", "aria-label": "Dismiss", onclick: () => el.remove() }, "×"));
  box.replaceChildren(el);
  setTimeout(() => el.remove(), kind === "error" ? 12000 : 5000);
  return el;
}

/** Shows an error where the user is looking: in a form's error line if given, else as a notice. */
export function fail(err, line) {
  if (err && err.name === "AbortError") return;
  const message = err instanceof Error ? err.message : String(err);
  if (line) line.textContent = message;
  else if (!(err instanceof ApiError && err.status === 0 && isOffline())) notify(message, "error");  // the banner says it
  if (!(err instanceof ApiError)) console.error(err);
}

/** A modal yes/no question; resolves true when confirmed. */
export function confirmDialog(message, { title = "Are you sure?", confirm = "Delete" } = {}) {
  const dlg = document.getElementById("confirm");
  dlg.querySelector("h2").textContent = title;
  dlg.querySelector("[data-message]").textContent = message;
  dlg.querySelector("[data-ok]").textContent = confirm;
  dlg.returnValue = "";
  return new Promise(resolve => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
    dlg.showModal();
    dlg.querySelector("[data-cancel]").focus();
  });
}

/** Runs `fn` while `button` shows it is busy (disabled, spinner), so a double click sends one request. */
export async function busy(button, fn) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const spin = h("span", { class: "spinner", "aria-hidden": "true" });
  button.append(spin);
  try { return await fn(); } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    spin.remove();
  }
}

// ---- shared data, loaded once and refreshed on demand ---------------------------------------------------
const cache = {};
export async function cached(key, load, force = false) {
  if (force || !(key in cache)) cache[key] = load().catch(e => { delete cache[key]; throw e; });
  return cache[key];
}
export const models = (force) => cached("models", () => api("/api/models"), force);
export const pipelines = (force) => cached("pipelines", () => api("/api/pipelines"), force);
export const me = { user: null, can(role) { return can(this.user, role); } };
const ROLES = ["viewer", "editor", "owner"];
export const can = (user, role) => !!user && ROLES.indexOf(user.role) >= ROLES.indexOf(role);

/** The family of models a pipeline runs on ("music.sample" -> music; the image pipelines -> gan). */
export function pipelineFamily(p) {
  return p.family || (p.name.startsWith("music.") ? "music" : p.name.startsWith("stylize.") ? "style" : "gan");
}

/** <select> of the ready models of one family; the first (or `chosen`) selected. */
export function modelSelect(list, family, chosen, props = {}) {
  const ok = list.filter(m => m.ready && (!family || m.family === family));
  return h("select", { ...props },
    ok.length ? ok.map(m => h("option", { value: m.name, selected: m.name === chosen }, modelLabel(m)))
      : h("option", { value: "" }, "no trained model yet"));
}

export function modelLabel(m) {
  const bits = [m.arch, m.resolution && `${m.resolution} px`].filter(Boolean).join(", ");
  return bits ? `${m.name} (${bits})` : m.name;
}

// ---- forms from declared parameters ---------------------------------------------------------------------
const NAMES = { n: "Count", no_copies: "No copies", mode: "Mode", mutation: "Mutation strength", bpm: "Tempo (bpm)" };

export function humanize(name) {
  return NAMES[name] || (name.charAt(0).toUpperCase() + name.slice(1)).replace(/[_.]/g, " ");
}

/**
 * Inputs for a pipeline's declared params, appended to `box`; returns read() -> {name: typed value}.
 * int -> number (seeds get a dice button), bounded float -> slider with its value, bool -> checkbox,
 * choices -> select, ints -> "1,2,3", str -> text.
 */
export function paramFields(box, params, values = {}, { skip = [], id = "p" } = {}) {
  const readers = {};
  for (const p of params) {
    if (skip.includes(p.name)) continue;
    const key = `${id}-${p.name.replace(/\W/g, "-")}`;
    const value = p.name in values ? values[p.name] : p.default;
    const [el, read] = field(p, value, key);
    readers[p.name] = read;
    box.append(el);
  }
  return () => Object.fromEntries(Object.entries(readers).map(([k, r]) => [k, r()]));
}

function field(p, value, key) {
  const name = humanize(p.name);
  const help = p.help ? h("span", { class: "help", id: `${key}-help` }, p.help) : null;
  const described = p.help ? `${key}-help` : undefined;
  if (p.type === "bool") {
    const input = h("input", { type: "checkbox", id: key, name: p.name, "aria-describedby": described });
    input.checked = !!value;
    return [h("div", { class: "stack", style: "gap:3px" },
      h("label", { class: "field check", for: key }, input, h("span", {}, name)), help), () => input.checked];
  }
  if (p.choices) {
    const input = h("select", { id: key, name: p.name, "aria-describedby": described, value },
      p.choices.map(c => h("option", { value: c }, c)));
    return [h("div", { class: "field" }, h("label", { for: key }, h("span", {}, name)), input, help), () => input.value];
  }
  if (p.type === "float" && p.min !== undefined && p.max !== undefined && p.max - p.min <= 10) {
    const step = p.max - p.min <= 2 ? 0.01 : 0.05;
    const out = h("output", { for: key }, Number(value).toFixed(2));
    const input = h("input", { type: "range", id: key, name: p.name, min: p.min, max: p.max, step, value,
                               "aria-describedby": described,
                               oninput: () => { out.textContent = Number(input.value).toFixed(2); } });
    return [h("div", { class: "field range" }, h("span", {}, h("label", { for: key }, name), out), input, help),
            () => Number(input.value)];
  }
  if (p.type === "int" || p.type === "float") {
    const input = h("input", { type: "number", id: key, name: p.name, value, min: p.min, max: p.max,
                               step: p.type === "int" ? 1 : "any", inputmode: p.type === "int" ? "numeric" : "decimal",
                               "aria-describedby": described, required: true });
    const read = () => Number(input.value);
    let control = input;
    if (p.name === "seed") {
      control = h("div", { class: "with-button" }, input,
        h("button", { type: "button", class: "icon", "aria-label": "Random seed", title: "Random seed",
                      onclick: () => { input.value = Math.floor(Math.random() * 1e6); input.dispatchEvent(new Event("input", { bubbles: true })); } }, "⚄"));
    }
    return [h("div", { class: "field" }, h("label", { for: key }, h("span", {}, name)), control, help), read];
  }
  const text = Array.isArray(value) ? value.join(",") : value ?? "";
  const input = h("input", { type: "text", id: key, name: p.name, value: text, "aria-describedby": described,
                             placeholder: p.type === "ints" ? "1,2,3" : "" });
  const read = p.type === "ints"
    ? () => input.value.split(/[\s,]+/).filter(Boolean).map(Number)
    : () => input.value;
  return [h("div", { class: "field" }, h("label", { for: key }, h("span", {}, name)), input, help), read];
}

// ---- small formatting helpers ---------------------------------------------------------------------------
export function when(iso) {
  if (!iso) return "";
  const t = new Date(iso);
  const s = (Date.now() - t.getTime()) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return t.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** An artwork's picture at its content-keyed address (`image_url`, `?v=SHA256`, cached for good by the
 *  browser); the plain address only for an artwork the server sent without one. */
export function imageSrc(art) {
  return art.image_url || `/api/artworks/${art.id}/image`;
}

/** A tile for one artwork: the picture (a button doing `onpick`) and a caption with its id and seed. */
export function artworkTile(art, { onpick, pressed, extra } = {}) {
  const img = h("img", { src: imageSrc(art), alt: "", loading: "lazy", decoding: "async" });
  const label = `Artwork #${art.id}${art.seed !== null && art.seed !== undefined ? `, seed ${art.seed}` : ""}` +
                (art.author ? ` by ${art.author}` : "");
  const button = h("button", { type: "button", "aria-label": label, title: label,
                               "aria-pressed": pressed === undefined ? undefined : String(!!pressed),
                               onclick: () => onpick && onpick(art, button) }, img);
  const flagged = art.recipe?.params?.copy_check?.flagged;
  return h("figure", { class: "tile", dataset: { id: art.id } }, button,
    art.favourite ? h("span", { class: "fav", "aria-hidden": "true" }, "★") : null,
    flagged ? h("span", { class: "badge flagged", title: "the copy check found this close to a training image" }, "close to training") : null,
    h("figcaption", {}, h("span", {}, `#${art.id} · `, how(art)),
      extra || h("a", { href: `#/lineage/${art.id}`, "aria-label": `Lineage of artwork #${art.id}`, title: "Family tree" }, "family")));
}

/** How a picture came about, in two words: its seed, or bred / explored / uploaded. */
export function how(art) {
  if (art.pipeline === "generate" && art.seed !== null && art.seed !== undefined) return `seed ${art.seed}`;
  if (art.pipeline === "music.sample" && art.seed !== null && art.seed !== undefined) return `♪ seed ${art.seed}`;
  return { breed: "bred", explore: "explored", upload: "uploaded", "music.interpolate": "♪ morph", "music.breed": "♪ bred",
           "music.upload": "♪ uploaded" }[art.pipeline] || art.pipeline;
}
