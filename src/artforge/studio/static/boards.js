// Boards: each person's own folders of pictures in the gallery (GET/POST /api/boards). Above the filters, the
// picker (All, each board with its cover and count, New board…), and Rename / Delete for the board shown; in
// the multi-select bar, "Add to board" (any board, or a new one) and "Remove from board" (the board shown).
// A board is private: only the person who made it sees it. The board shown is the `board` filter of the
// gallery's address (#/gallery?board=3), kept in a hidden field of its filter form.
import { api, busy, clear, confirmDialog, fail, h, me, notify } from "./core.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export class Boards {
  /** `changed()` is called when the person picks another board (or All): the gallery searches again. */
  constructor({ changed }) {
    this.changed = changed;
    this.list = [];
    this.input = h("input", { type: "hidden", name: "board", id: "gallery-board" });
    this.chips = h("div", { class: "board-chips", role: "group", "aria-label": "Boards" });
    const editor = me.can("editor");
    this.renameButton = h("button", { type: "button", class: "ghost", hidden: true, onclick: () => this.rename() }, "Rename board…");
    this.deleteButton = h("button", { type: "button", class: "ghost danger-text", hidden: true, onclick: () => this.remove() }, "Delete board…");
    this.nameDialog = this.buildDialog();
    this.bulkSelect = h("select", { id: "gallery-bulk-board" });
    this.bulkRemove = null;
    this.el = h("div", { class: "boards" }, h("span", { class: "boards-label muted small" }, "Boards"), this.chips,
      editor ? h("span", { class: "board-edit" }, this.renameButton, this.deleteButton) : null, this.nameDialog);
  }

  /** The id of the board shown, or null for All. */
  value() { return Number(this.input.value) || null; }
  current() { return this.list.find(b => b.id === this.value()) || null; }

  async refresh() {
    try { this.list = await api("/api/boards"); } catch (e) { fail(e); }
    this.render();
  }

  /** Redraws the picker and the bar's board list from `this.list` and the board shown. */
  render() {
    const shown = this.value();
    const chip = (board, label, extra) => h("button", {
      type: "button", class: "toggle board-chip", "aria-pressed": String(shown === (board ? board.id : null)),
      "aria-label": board ? `Board ${board.name}, ${plural(board.count, "picture")}` : "All pictures",
      title: board ? board.name : null,                     // a long name is cut short on the chip
      onclick: () => this.pick(board ? board.id : null) }, extra, h("span", { class: "board-name" }, label),
      board ? h("span", { class: "board-count" }, String(board.count)) : null);
    const cover = b => b.cover_url ? h("img", { src: b.cover_url, alt: "", class: "board-cover" }) : h("span", { class: "board-cover blank" });
    clear(this.chips, chip(null, "All"), this.list.map(b => chip(b, b.name, cover(b))),
      me.can("editor") ? h("button", { type: "button", class: "ghost board-new", onclick: () => this.create() }, "New board…") : null);
    this.el.hidden = !me.can("editor") && !this.list.length;          // a viewer without boards: nothing to pick
    const current = this.current();
    this.renameButton.hidden = this.deleteButton.hidden = !current;
    const keep = this.bulkSelect.value;
    clear(this.bulkSelect, this.list.map(b => h("option", { value: b.id }, b.name)), h("option", { value: "new" }, "New board…"));
    if (keep && [...this.bulkSelect.options].some(o => o.value === keep)) this.bulkSelect.value = keep;
    else if (current) this.bulkSelect.value = String(current.id);
    if (this.bulkRemove) {
      this.bulkRemove.hidden = !current;
      this.bulkRemove.textContent = current ? `Remove from “${current.name}”` : "Remove from board";
    }
  }

  /** Shows board `id` (null: All); the gallery is told to search again. */
  pick(id) {
    this.input.value = id ? String(id) : "";
    this.render();
    this.changed();
  }

  /** The board shown when the address changes (no new search: the gallery does that). */
  set(id) { this.input.value = id ? String(id) : ""; this.render(); }

  buildDialog() {
    this.nameInput = h("input", { id: "board-name", name: "name", maxlength: 60, autocomplete: "off", required: true });
    this.nameError = h("p", { class: "form-error", role: "alert" });
    this.nameSave = h("button", { type: "submit", class: "primary" }, "Save");
    const form = h("form", { method: "dialog" },
      h("h2", { id: "board-dialog-title" }, "New board"),
      h("div", { class: "field" }, h("label", { for: "board-name" }, h("span", {}, "Board name")), this.nameInput),
      this.nameError,
      h("div", { class: "row end" }, h("button", { type: "button", class: "ghost", onclick: () => dlg.close() }, "Cancel"), this.nameSave));
    const dlg = h("dialog", { class: "board-dialog", "aria-labelledby": "board-dialog-title" }, form);
    form.addEventListener("submit", e => {
      e.preventDefault();
      busy(this.nameSave, async () => {
        try { this.answer = await this.submit(this.nameInput.value); dlg.close(); } catch (err) { fail(err, this.nameError); }
      });
    });
    return dlg;
  }

  /** Asks for a name in the dialog; `submit(name)` saves it (its error shows in the dialog, which stays
   *  open). Resolves with what `submit` returned, or null when cancelled. */
  ask(title, value, submit) {
    this.nameDialog.querySelector("h2").textContent = title;
    this.nameInput.value = value;
    this.nameError.textContent = "";
    this.submit = submit;
    this.answer = null;
    return new Promise(resolve => {
      this.nameDialog.addEventListener("close", () => resolve(this.answer), { once: true });
      this.nameDialog.showModal();
      this.nameInput.select();
    });
  }

  async create() {
    const board = await this.ask("New board", "", name => api("/api/boards", { method: "POST", json: { name } }));
    if (!board) return null;
    notify(`Made the board “${board.name}”.`, "ok");
    await this.refresh();
    return board;
  }

  async rename() {
    const old = this.current();
    if (!old) return;
    const board = await this.ask(`Rename “${old.name}”`, old.name,
      name => api(`/api/boards/${old.id}`, { method: "PATCH", json: { name } }));
    if (board) await this.refresh();
  }

  async remove() {
    const board = this.current();
    if (!board) return;
    if (!(await confirmDialog(`Delete the board “${board.name}”? Its ${plural(board.count, "picture")} stay in the gallery.`,
                              { title: "Delete this board?", confirm: "Delete board" }))) return;
    try {
      await api(`/api/boards/${board.id}`, { method: "DELETE" });
      notify(`Deleted the board “${board.name}”.`, "ok");
      this.pick(null);
      await this.refresh();
    } catch (e) { fail(e); }
  }

  /** The multi-select bar's controls: { items: elements to show, buttons: those needing a picked picture }. */
  bulkControls(selection) {
    const add = h("button", { type: "submit" }, "Add to board");
    const form = h("form", { class: "with-button", "aria-label": "Add the selected pictures to a board" },
      h("label", { for: "gallery-bulk-board", class: "muted small", style: "align-self:center" }, "Board"), this.bulkSelect, add);
    form.addEventListener("submit", e => { e.preventDefault(); busy(add, () => this.addPicked(selection)); });
    this.bulkRemove = h("button", { type: "button", hidden: true, onclick: e => busy(e.currentTarget, () => this.removePicked(selection)) },
      "Remove from board");
    this.render();
    return { items: [form, this.bulkRemove], buttons: [add, this.bulkRemove] };
  }

  async addPicked(selection) {
    const ids = selection.arts().map(a => a.id);
    let board = this.list.find(b => String(b.id) === this.bulkSelect.value);
    if (this.bulkSelect.value === "new") board = await this.create();
    if (!board || !ids.length) return;
    try {
      let added = 0;
      for (let i = 0; i < ids.length; i += 500) {          // the server takes up to 500 ids a call
        added += (await api(`/api/boards/${board.id}/artworks`, { method: "POST", json: { artworks: ids.slice(i, i + 500) } })).added;
      }
      const already = ids.length - added;
      notify(`Added ${plural(added, "picture")} to “${board.name}”${already ? ` (${already} already there)` : ""}.`, "ok");
      this.bulkSelect.value = String(board.id);
    } catch (e) { fail(e); }
    await this.refresh();
  }

  async removePicked(selection) {
    const board = this.current();
    const ids = selection.arts().map(a => a.id);
    if (!board || !ids.length) return;
    try {
      let removed = 0;
      for (let i = 0; i < ids.length; i += 500) {
        removed += (await api(`/api/boards/${board.id}/artworks/remove`, { method: "POST", json: { artworks: ids.slice(i, i + 500) } })).removed;
      }
      notify(`Removed ${plural(removed, "picture")} from “${board.name}”; they stay in the gallery.`, "ok");
      selection.drop(ids);
    } catch (e) { fail(e); }
    await this.refresh();
    selection.reload();
  }
}
