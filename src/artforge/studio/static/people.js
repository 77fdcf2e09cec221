// People: your own password and API tokens (everyone); accounts and roles (the owner).
import { api, busy, clear, confirmDialog, fail, h, me, notify, when } from "./core.js";

const ROLES = ["viewer", "editor", "owner"];
const ROLE_HELP = { viewer: "can look and download", editor: "can also create, breed, tag and train", owner: "can also manage people" };
let accountBox, tokensBox, usersBox;

function build(root) {
  accountBox = h("section", { class: "panel stack", "aria-labelledby": "account-title" });
  tokensBox = h("section", { class: "panel stack", "aria-labelledby": "tokens-title" });
  usersBox = h("section", { class: "panel stack", "aria-labelledby": "users-title" });
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "people-title", tabindex: "-1" }, "People"),
      h("p", {}, "Who can use this studio, and the tokens your scripts use for the ", h("a", { href: "/docs", target: "_blank" }, "REST API"), ".")),
    h("div", { class: "split wide-left" }, h("div", { class: "stack" }, accountBox, tokensBox), usersBox));
}

async function show() {
  renderAccount();
  await Promise.all([renderTokens(), renderUsers()]);
}

function field(id, label, props) {
  return h("div", { class: "field" }, h("label", { for: id }, h("span", {}, label)), h("input", { id, ...props }));
}

function renderAccount() {
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "stack", "aria-label": "Change your password" },
    field("password-old", "Current password (leave empty if you signed in with the link)", { type: "password", name: "old_password", autocomplete: "current-password" }),
    field("password-new", "New password", { type: "password", name: "new_password", autocomplete: "new-password", minlength: 8, required: true,
                                             "aria-describedby": "password-new-help" }),
    h("p", { class: "help", id: "password-new-help" },
      "A new password signs you out everywhere and stops your API tokens working, unless you keep them."),
    h("label", { class: "field check", for: "password-keep-tokens" },
      h("input", { type: "checkbox", id: "password-keep-tokens", name: "keep_tokens" }), h("span", {}, "Keep my API tokens")),
    error, h("div", {}, h("button", { type: "submit" }, "Set password")));
  form.addEventListener("submit", e => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      error.textContent = "";
      const data = Object.fromEntries(new FormData(form));
      if (!data.old_password) delete data.old_password;
      if (data.keep_tokens) data.keep_tokens = true;
      try {
        await api("/api/me/password", { method: "POST", json: data });
        // Setting a password ends every session of yours, this one too: sign in again with it.
        window.dispatchEvent(new CustomEvent("studio:signed-out", { detail: { message: "Password set. Sign in with it.", kind: "ok" } }));
      } catch (err) { fail(err, error); }
    });
  });
  clear(accountBox, h("h2", { id: "account-title" }, "You"),
    h("p", {}, h("b", {}, me.user.username), h("span", { class: "muted" }, ` · ${me.user.role} (${ROLE_HELP[me.user.role]})`)), form);
}

async function renderTokens() {
  let tokens = [];
  try { tokens = await api("/api/tokens"); } catch (e) { fail(e); }
  const error = h("p", { class: "form-error", role: "alert" });
  const fresh = h("div");
  const form = h("form", { class: "row", style: "align-items:end", "aria-label": "New API token" },
    field("token-name", "Token name", { name: "name", value: "api", maxlength: 80, required: true }),
    field("token-days", "Expires in (days)", { name: "expires_days", type: "number", min: 1, max: 3650, step: 1, inputmode: "numeric",
                                              placeholder: "never", style: "width:8em",
                                              title: "leave empty for a token that works until you delete it" }),
    h("button", { type: "submit" }, "Create token"));
  form.addEventListener("submit", e => {
    e.preventDefault();
    busy(form.querySelector("button"), async () => {
      try {
        const days = form.elements.expires_days.value;
        const body = { name: form.elements.name.value, ...(days ? { expires_days: Number(days) } : {}) };
        const t = await api("/api/tokens", { method: "POST", json: body });
        await renderTokens();
        tokensBox.querySelector("[data-fresh]").append(h("div", { class: "stack", style: "gap:6px" },
          h("p", { class: "small" }, `Your new token “${t.name}” (expires: ${expiry(t.expires)}). Copy it now: it is shown only once.`),
          h("code", { class: "token", id: "token-value" }, t.token),
          h("p", { class: "small muted" }, "Use it as ", h("code", {}, "Authorization: Bearer <token>"), ".")));
      } catch (err) { fail(err, error); }
    });
  });
  clear(tokensBox, h("h2", { id: "tokens-title" }, "Your API tokens"),
    tokens.length ? h("table", { class: "tokens", "aria-label": "Your API tokens" },
      h("thead", {}, h("tr", {}, ["Name", "Made", "Last used", "Expires", ""].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, tokens.map(t => h("tr", {}, h("td", {}, t.name), h("td", { class: "muted" }, when(t.created)),
        h("td", { class: "muted" }, t.last_used ? when(t.last_used) : "never"), h("td", { class: "muted date" }, expiry(t.expires)),
        h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Delete token ${t.name}`, onclick: async () => {
          if (!(await confirmDialog(`Delete the token “${t.name}”? Scripts using it stop working.`, { title: "Delete this token?" }))) return;
          try { await api(`/api/tokens/${t.id}`, { method: "DELETE" }); renderTokens(); } catch (err) { fail(err); }
        } }, "Delete"))))))
      : h("p", { class: "muted small" }, "No tokens yet."),
    form, error, h("div", { dataset: { fresh: "" } }, fresh));
}

/** A token's end: "never", "expired 2026-05-01" or "2026-05-01" (the day, UTC, as the server keeps it). */
function expiry(iso) {
  if (!iso) return "never";
  return new Date(iso).getTime() <= Date.now() ? `expired ${iso.slice(0, 10)}` : iso.slice(0, 10);
}

async function renderUsers() {
  if (!me.can("owner")) {
    clear(usersBox, h("h2", { id: "users-title" }, "Everyone"), h("p", { class: "muted" }, "The studio's owner adds people and sets their roles."));
    return;
  }
  let users = [];
  try { users = await api("/api/users"); } catch (e) { fail(e); }
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "stack", "aria-label": "Add a person" },
    h("h3", {}, "Add a person"),
    h("div", { class: "row", style: "align-items:end" },
      field("user-name", "Username", { name: "username", required: true, autocomplete: "off", maxlength: 40 }),
      field("user-password", "Password", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
      h("div", { class: "field" }, h("label", { for: "user-role" }, h("span", {}, "Role")),
        h("select", { id: "user-role", name: "role", value: "editor" }, ROLES.map(r => h("option", { value: r }, r)))),
      h("button", { type: "submit", class: "primary" }, "Add")),
    error);
  form.addEventListener("submit", e => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      error.textContent = "";
      try {
        const u = await api("/api/users", { method: "POST", json: Object.fromEntries(new FormData(form)) });
        notify(`Added ${u.username} (${u.role}).`, "ok");
        await renderUsers();
      } catch (err) { fail(err, error); }
    });
  });
  clear(usersBox, h("h2", { id: "users-title" }, "Everyone"),
    h("table", { "aria-label": "People" },
      h("thead", {}, h("tr", {}, ["Username", "Role", "Password", "Since", ""].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, users.map(userRow))),
    h("p", { class: "small muted" }, ROLES.map(r => `${r}: ${ROLE_HELP[r]}`).join(" · ")),
    form);
}

function userRow(u) {
  const role = h("select", { "aria-label": `Role of ${u.username}`, value: u.role, onchange: async () => {
    try { await api(`/api/users/${u.id}`, { method: "PATCH", json: { role: role.value } }); notify(`${u.username} is now ${role.value}.`, "ok"); }
    catch (e) { role.value = u.role; fail(e); }
  } }, ROLES.map(r => h("option", { value: r }, r)));
  return h("tr", {}, h("td", {}, h("b", {}, u.username), u.id === me.user.id ? h("span", { class: "muted" }, " (you)") : null),
    h("td", {}, role), h("td", { class: "muted" }, u.has_password ? "set" : "not yet"), h("td", { class: "muted" }, when(u.created)),
    h("td", {}, u.id === me.user.id ? null : h("button", { type: "button", class: "danger", "aria-label": `Remove ${u.username}`, onclick: async () => {
      if (!(await confirmDialog(`Remove ${u.username}? Their pictures stay in the gallery.`, { title: "Remove this person?", confirm: "Remove" }))) return;
      try { await api(`/api/users/${u.id}`, { method: "DELETE" }); renderUsers(); } catch (e) { fail(e); }
    } }, "Remove")));
}

export default { name: "people", title: "People", build, show };
