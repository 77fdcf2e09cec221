// The gallery's multi-select: with Select on, clicking pictures picks them, and a bar acts on all of them at
// once through the same per-picture calls as the viewer: add a tag, favourite or not, put them on one of your
// boards or take them off the board shown (boards.js), download (one zip, each PNG with its recipe), breed them
// in Create, delete (with one confirmation; only your own pictures, or any for an owner).
import { api, busy, confirmDialog, fail, h, me, notify } from "./core.js";
import { zipBlob } from "./zip.js";

const BREEDABLE = ["generate", "breed"];     // pictures whose recipes give their latents

export class Selection {
  /** `shown()` gives the artworks in the grid; `changed()` marks the picked tiles; `updated(art)` redraws
   *  one picture's tile (new tags, favourite); `reload()` searches again (after a delete); `boards` (a
   *  Boards of boards.js) gives the bar its Add to board / Remove from board controls. */
  constructor({ shown, changed, updated, reload, boards }) {
    Object.assign(this, { shown, changed, updated, reload, boards });
    this.picked = new Map();                   // artwork id -> artwork
    this.on = false;
    this.el = this.bar();
  }

  bar() {
    const button = (label, run, props = {}) => h("button", { type: "button", ...props, onclick: e => busy(e.currentTarget, run) }, label);
    this.count = h("b", { id: "gallery-selcount" });
    this.tagInput = h("input", { id: "gallery-bulk-tag", maxlength: 40, placeholder: "e.g. sunset", autocomplete: "off", list: "gallery-tags" });
    const tagButton = h("button", { type: "submit" }, "Add tag");
    const tagForm = h("form", { class: "with-button", "aria-label": "Tag the selected pictures" },
      h("label", { for: "gallery-bulk-tag", class: "muted small", style: "align-self:center" }, "Tag"), this.tagInput, tagButton);
    tagForm.addEventListener("submit", e => { e.preventDefault(); busy(tagButton, () => this.addTag()); });
    const editor = me.can("editor");
    const onBoards = editor && this.boards ? this.boards.bulkControls(this) : { items: [], buttons: [] };
    const actions = [
      editor && tagForm,
      editor && button("★ Favourite", () => this.favourite(true), { title: "favourite every selected picture" }),
      editor && button("☆ Not favourite", () => this.favourite(false)),
      ...onBoards.items,
      button("Download (zip)", () => this.download(), { title: "one zip of the PNGs, each with its recipe" }),
      editor && button("Breed in Create", () => this.breed(), { title: "open Create with these pictures picked as parents" }),
      h("span", { class: "grow" }),
      editor && button("Delete…", () => this.remove(), { class: "danger" })].filter(Boolean);
    this.needSome = [tagButton, ...onBoards.buttons, ...actions.filter(a => a.tagName === "BUTTON")];  // off with none picked
    return h("section", { class: "selbar", "aria-label": "Selected pictures", hidden: true },
      h("div", { class: "row", style: "margin-bottom:10px" }, this.count,
        h("span", { class: "grow muted small" }, "Click pictures to pick them; these buttons act on every picked one."),
        h("button", { type: "button", class: "ghost", onclick: () => this.all() }, "Select all shown"),
        h("button", { type: "button", class: "ghost", onclick: () => { this.picked.clear(); this.update(); } }, "Select none"),
        h("button", { type: "button", onclick: () => this.setActive(false) }, "Done")),
      h("div", { class: "row" }, actions));
  }

  active() { return this.on; }
  has(id) { return this.picked.has(id); }
  arts() { return [...this.picked.values()]; }
  toggle(art) { if (this.picked.has(art.id)) this.picked.delete(art.id); else this.picked.set(art.id, art); this.update(); }
  setActive(value) { this.on = value; if (!value) this.picked.clear(); this.update(); }
  all() { for (const a of this.shown()) this.picked.set(a.id, a); this.update(); }
  drop(ids) { for (const id of ids) this.picked.delete(id); this.update(); }

  update() {
    this.count.textContent = `${this.picked.size} selected`;
    this.el.hidden = !this.on;
    for (const b of this.needSome) b.disabled = !this.picked.size;
    this.changed();
  }

  /** `call(art)` for each picked picture, one after another; one notice says how many went through. */
  async each(done, list, call) {
    const failed = [];
    for (const a of list) {
      try { await call(a); } catch (e) { failed.push(`#${a.id}: ${e.message}`); }
    }
    const ok = list.length - failed.length;
    notify(failed.length ? `${done} ${ok} of ${list.length}. ${failed.join("; ")}` : `${done} ${ok} picture${ok === 1 ? "" : "s"}.`,
           failed.length ? "error" : "ok");
  }

  keep(art) { this.picked.set(art.id, art); this.updated(art); }

  async addTag() {
    const tags = this.tagInput.value.split(",").map(t => t.trim()).filter(Boolean);
    if (!tags.length) { this.tagInput.focus(); return; }
    await this.each(`Tagged “${tags.join(", ")}”:`, this.arts(),
      a => api(`/api/artworks/${a.id}/tags`, { method: "POST", json: { tags } }).then(art => this.keep(art)));
    this.tagInput.value = "";
    this.update();
  }

  async favourite(value) {
    await this.each(value ? "Favourited" : "Unfavourited", this.arts(),
      a => api(`/api/artworks/${a.id}/favourite`, { method: "PUT", json: { favourite: value } }).then(art => this.keep(art)));
    this.update();
  }

  async remove() {
    const mine = this.arts().filter(a => a.author_id === me.user.id || me.can("owner"));
    const others = this.picked.size - mine.length;
    if (!mine.length) { notify("None of the selected pictures is yours; only an owner can delete other people's.", "error"); return; }
    const also = others ? ` ${others} picture${others === 1 ? "" : "s"} by other people stay (only an owner can delete them).` : "";
    const plural = mine.length === 1 ? "" : "s";
    if (!(await confirmDialog(`Delete ${mine.length} picture${plural}? Their pictures and recipes are removed for everyone. ` +
                              `This cannot be undone.${also}`, { title: "Delete the selected pictures?", confirm: "Delete" }))) return;
    await this.each("Deleted", mine, a => api(`/api/artworks/${a.id}`, { method: "DELETE" }).then(() => this.picked.delete(a.id)));
    this.update();
    this.reload();
  }

  async download() {
    try {
      const files = [];
      for (const a of this.arts()) {
        const r = await api(`/api/artworks/${a.id}/download?recipe=keep`, { raw: true });
        files.push({ name: `artwork-${a.id}.png`, bytes: new Uint8Array(await r.arrayBuffer()) });
      }
      const url = URL.createObjectURL(zipBlob(files));
      const link = h("a", { href: url, download: `artworks-${files.length}.zip`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { fail(e); }
  }

  breed() {
    const list = this.arts(), odd = list.filter(a => !BREEDABLE.includes(a.pipeline));
    if (odd.length) {
      notify(`Only pictures made by generate or breed can be bred: ${odd.map(a => `#${a.id} is ${a.pipeline}`).join(", ")}.`, "error");
      return;
    }
    location.hash = `#/create?parents=${list.map(a => a.id).join(",")}`;
  }
}
