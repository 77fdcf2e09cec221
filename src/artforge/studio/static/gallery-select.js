// The gallery's multi-select: with Select on, clicking pictures picks them, and a bar acts on all of them at
// once through the same per-picture calls as the viewer: add a tag, favourite or not, download (one zip, each
// PNG with its recipe), breed them in Create, delete (with one confirmation; only your own pictures, or any
// for an owner).
import { api, busy, confirmDialog, fail, h, me, notify } from "./core.js";
import { zipBlob } from "./zip.js";

const BREEDABLE = ["generate", "breed"];     // pictures whose recipes give their latents

/** The bar and the selection. `shown()` gives the artworks in the grid; `changed()` marks the picked tiles;
 *  `updated(art)` redraws one picture's tile (new tags, favourite); `reload()` searches again (after a delete). */
export function selection({ shown, changed, updated, reload }) {
  const picked = new Map();                    // artwork id -> artwork
  let on = false;
  const count = h("b", { id: "gallery-selcount" });
  const tagInput = h("input", { id: "gallery-bulk-tag", maxlength: 40, placeholder: "e.g. sunset", autocomplete: "off", list: "gallery-tags" });
  const tagForm = h("form", { class: "with-button", "aria-label": "Tag the selected pictures" },
    h("label", { for: "gallery-bulk-tag", class: "muted small", style: "align-self:center" }, "Tag"), tagInput,
    h("button", { type: "submit" }, "Add tag"));
  const button = (label, run, props = {}) => h("button", { type: "button", ...props, onclick: e => busy(e.currentTarget, run) }, label);
  const fav = button("★ Favourite", () => favourite(true), { title: "favourite every selected picture" });
  const unfav = button("☆ Not favourite", () => favourite(false));
  const breed = button("Breed in Create", breedThem, { title: "open Create with these pictures picked as parents" });
  const del = button("Delete…", remove, { class: "danger" });
  const dl = button("Download (zip)", download, { title: "one zip of the PNGs, each with its recipe" });
  const needSome = [tagForm.querySelector("button"), fav, unfav, breed, del, dl];      // disabled with none picked
  const el = h("section", { class: "selbar", "aria-label": "Selected pictures", hidden: true },
    h("div", { class: "row" }, count,
      h("button", { type: "button", class: "ghost", onclick: () => { for (const a of shown()) picked.set(a.id, a); update(); } }, "Select all shown"),
      h("button", { type: "button", class: "ghost", onclick: () => { picked.clear(); update(); } }, "Select none"),
      h("span", { class: "grow" }),
      me.can("editor") ? tagForm : null, me.can("editor") ? fav : null, me.can("editor") ? unfav : null,
      dl,
      me.can("editor") ? breed : null, me.can("editor") ? del : null));
  tagForm.addEventListener("submit", e => {
    e.preventDefault();
    busy(tagForm.querySelector("button"), addTag);
  });

  function update() {
    const ids = [...picked.keys()];
    count.textContent = `${ids.length} selected`;
    el.hidden = !on;
    for (const b of needSome) b.disabled = !ids.length;
    changed();
  }
  const arts = () => [...picked.values()];

  async function each(done, list, call) {
    const failed = [];
    for (const a of list) {
      try { await call(a); } catch (e) { failed.push(`#${a.id}: ${e.message}`); }
    }
    const ok = list.length - failed.length;
    notify(failed.length ? `${done} ${ok} of ${list.length}. ${failed.join("; ")}` : `${done} ${ok} picture${ok === 1 ? "" : "s"}.`,
           failed.length ? "error" : "ok");
    return ok;
  }
  async function addTag() {
    const tags = tagInput.value.split(",").map(t => t.trim()).filter(Boolean);
    if (!tags.length) { tagInput.focus(); return; }
    await each(`Tagged “${tags.join(", ")}”:`, arts(), a => api(`/api/artworks/${a.id}/tags`, { method: "POST", json: { tags } })
      .then(art => { picked.set(a.id, art); updated(art); }));
    tagInput.value = "";
    update();
  }
  async function favourite(value) {
    await each(value ? "Favourited" : "Unfavourited", arts(),
      a => api(`/api/artworks/${a.id}/favourite`, { method: "PUT", json: { favourite: value } })
        .then(art => { picked.set(a.id, art); updated(art); }));
    update();
  }
  async function remove() {
    const mine = arts().filter(a => a.author_id === me.user.id || me.can("owner"));
    const others = picked.size - mine.length;
    if (!mine.length) { notify("None of the selected pictures is yours; only an owner can delete other people's.", "error"); return; }
    const also = others ? ` ${others} picture${others === 1 ? "" : "s"} by other people stay (only an owner can delete them).` : "";
    if (!(await confirmDialog(`Delete ${mine.length} picture${mine.length === 1 ? "" : "s"}? Their pictures and recipes are removed ` +
                              `for everyone. This cannot be undone.${also}`, { title: "Delete the selected pictures?", confirm: "Delete" }))) return;
    await each("Deleted", mine, a => api(`/api/artworks/${a.id}`, { method: "DELETE" }).then(() => picked.delete(a.id)));
    update();
    reload();
  }
  async function download() {
    try {
      const files = [];
      for (const a of arts()) {
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
  function breedThem() {
    const list = arts(), odd = list.filter(a => !BREEDABLE.includes(a.pipeline));
    if (odd.length) {
      notify(`Only pictures made by generate or breed can be bred: ${odd.map(a => `#${a.id} is ${a.pipeline}`).join(", ")}.`, "error");
      return;
    }
    location.hash = `#/create?parents=${list.map(a => a.id).join(",")}`;
  }

  return {
    el,
    active: () => on,
    has: id => picked.has(id),
    toggle(art) { if (picked.has(art.id)) picked.delete(art.id); else picked.set(art.id, art); update(); },
    setActive(value) { on = value; if (!on) picked.clear(); update(); },
  };
}
