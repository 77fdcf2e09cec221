// Lineage: the family tree of one picture across generations, drawn as SVG: ancestors above, descendants
// below, one row per generation; every picture in it is a link that re-centres the tree on it.
import { api, clear, fail, h, how, imageSrc, s, when } from "./core.js";

const SIZE = 112, GAP_X = 28, GAP_Y = 60, LABEL = 18, PAD = 24, LEFT = 120;   // LEFT: the generation names
let treeBox, side, jump;

function build(root) {
  treeBox = h("div", { class: "tree-wrap" });
  side = h("div", { class: "panel stack sticky" });
  jump = h("form", { class: "with-button", "aria-label": "Open the family of an artwork" },
    h("label", { for: "lineage-id", class: "muted small", style: "align-self:center" }, "Artwork #"),
    h("input", { id: "lineage-id", type: "number", min: 1, step: 1, style: "width:90px" }),
    h("button", { type: "submit" }, "Show"));
  jump.addEventListener("submit", e => {
    e.preventDefault();
    const v = jump.querySelector("input").value;
    if (v) location.hash = `#/lineage/${v}`;
  });
  root.append(
    h("div", { class: "page-head" }, h("h1", { id: "lineage-title", tabindex: "-1" }, "Lineage"),
      h("p", {}, "Where a picture came from and what came of it: parents above, children below."),
      h("span", { class: "grow" }), jump),
    h("div", { class: "split wide-left", style: "grid-template-columns: minmax(0,1fr) 300px" }, treeBox, side));
}

async function show(args) {
  let id = Number(args.path[0]);
  if (!id) {
    const bred = await api("/api/artworks?q=breed&limit=1");
    const any = bred.items.length ? bred : await api("/api/artworks?limit=1");
    if (!any.items.length) {
      clear(treeBox, h("p", { class: "empty" }, "No pictures yet. Breed some on the Create page, then come back."));
      clear(side, h("p", { class: "muted" }, "Nothing selected."));
      return;
    }
    id = any.items[0].id;
    history.replaceState(null, "", `#/lineage/${id}`);
  }
  jump.querySelector("input").value = id;
  try {
    const tree = await api(`/api/artworks/${id}/lineage?depth=8`);
    draw(tree);
  } catch (e) {
    clear(treeBox, h("p", { class: "empty" }, e.message));
    clear(side);
    fail(e);
  }
}

/** Generation of every node relative to the focus (ancestors < 0 < descendants), longest path each way. */
function generations(tree) {
  const parentsOf = new Map(), childrenOf = new Map();
  for (const [c, p] of tree.edges) {
    if (!parentsOf.has(c)) parentsOf.set(c, []);
    if (!childrenOf.has(p)) childrenOf.set(p, []);
    parentsOf.get(c).push(p);
    childrenOf.get(p).push(c);
  }
  const level = new Map([[tree.id, 0]]);
  const walk = (start, next, dir) => {
    const stack = [start];
    let guard = 0;
    while (stack.length && guard++ < 10000) {
      const n = stack.pop();
      for (const m of next.get(n) || []) {
        const want = level.get(n) + dir;
        if (!level.has(m) || (dir < 0 ? want < level.get(m) : want > level.get(m))) { level.set(m, want); stack.push(m); }
      }
    }
  };
  walk(tree.id, parentsOf, -1);
  walk(tree.id, childrenOf, +1);
  return { level, parentsOf, childrenOf };
}

function layout(tree) {
  const { level, parentsOf, childrenOf } = generations(tree);
  const rows = new Map();
  for (const [id, l] of level) { if (!rows.has(l)) rows.set(l, []); rows.get(l).push(id); }
  const order = [...rows.keys()].sort((a, b) => a - b);
  for (const l of order) rows.get(l).sort((a, b) => a - b);
  const x = new Map();
  const place = () => { for (const l of order) rows.get(l).forEach((id, i) => x.set(id, i - (rows.get(l).length - 1) / 2)); };
  place();
  // Barycentre sweeps: order each row by where its relatives sit, so lines cross less.
  const mean = (ids) => ids.length ? ids.reduce((t, i) => t + (x.get(i) ?? 0), 0) / ids.length : null;
  for (let pass = 0; pass < 3; pass++) {
    for (const l of [...order].reverse().concat(order)) {
      const key = id => mean([...(l < 0 ? childrenOf.get(id) || [] : parentsOf.get(id) || [])].filter(i => level.has(i)));
      if (l === 0) continue;
      rows.get(l).sort((a, b) => (key(a) ?? 0) - (key(b) ?? 0) || a - b);
      place();
    }
  }
  const widest = Math.max(...[...rows.values()].map(r => r.length));
  const span = widest * (SIZE + GAP_X) - GAP_X;
  const width = LEFT + span + 2 * PAD, centre = LEFT + PAD + span / 2;
  const pos = new Map();
  order.forEach((l, r) => {
    for (const id of rows.get(l)) {
      pos.set(id, { x: centre + x.get(id) * (SIZE + GAP_X) - SIZE / 2, y: PAD + r * (SIZE + LABEL + GAP_Y), level: l });
    }
  });
  return { pos, order, width, height: PAD * 2 + order.length * (SIZE + LABEL + GAP_Y) - GAP_Y };
}

function draw(tree) {
  const nodes = new Map(tree.nodes.map(n => [n.id, n]));
  const { pos, order, width, height } = layout(tree);
  const svg = s("svg", { class: "tree", width, height, viewBox: `0 0 ${width} ${height}`, role: "group",
                         "aria-label": `Family tree of artwork #${tree.id}: ${tree.parents.length} parent(s), ${tree.children.length} child(ren), ${tree.nodes.length} picture(s) in all` });
  order.forEach((l, r) => {
    const name = l === 0 ? "this picture" : l < 0 ? (l === -1 ? "parents" : l === -2 ? "grandparents" : `${-l} generations up`)
      : (l === 1 ? "children" : l === 2 ? "grandchildren" : `${l} generations down`);
    svg.append(s("text", { class: "gen", x: 12, y: PAD + r * (SIZE + LABEL + GAP_Y) + SIZE / 2 }, name));
  });
  for (const [c, p] of tree.edges) {
    const a = pos.get(p), b = pos.get(c);
    if (!a || !b) continue;
    const x1 = a.x + SIZE / 2, y1 = a.y + SIZE + LABEL, x2 = b.x + SIZE / 2, y2 = b.y;
    const mid = (y1 + y2) / 2;
    svg.append(s("path", { class: `edge${c === tree.id || p === tree.id ? " focus" : ""}`, d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}` }));
  }
  for (const [id, at] of pos) {
    const n = nodes.get(id);
    const label = `Artwork #${id}${n && n.seed !== null ? `, seed ${n.seed}` : ""}${n ? `, ${n.pipeline}` : ""}`;
    const clip = `clip-${id}`;
    svg.append(s("a", { href: `#/lineage/${id}`, "aria-label": label, "aria-current": id === tree.id ? "true" : undefined },
      s("g", { class: `node${id === tree.id ? " focus" : ""}`, transform: `translate(${at.x},${at.y})` },
        s("title", {}, label),
        s("clipPath", { id: clip }, s("rect", { width: SIZE, height: SIZE, rx: 6 })),
        s("rect", { width: SIZE, height: SIZE, rx: 6 }),
        s("image", { href: imageSrc(n || { id }), width: SIZE, height: SIZE, "clip-path": `url(#${clip})`,
                    preserveAspectRatio: n?.pipeline?.startsWith("music.") ? "xMidYMid meet" : "xMidYMid slice" }),  // a piano roll whole
        s("text", { x: SIZE / 2, y: SIZE + 14, "text-anchor": "middle" }, `#${id}${n ? ` · ${how(n)}` : ""}`))));
  }
  clear(treeBox, svg);
  const focus = nodes.get(tree.id);
  const links = ids => ids.length ? ids.map(i => h("a", { href: `#/lineage/${i}` }, `#${i} `)) : "none";
  clear(side,
    h("img", { src: imageSrc(focus || { id: tree.id }), alt: `Artwork #${tree.id}`, style: "width:100%;border-radius:6px" }),
    h("h2", {}, `Artwork #${tree.id}`),
    focus ? h("dl", { class: "facts" },
      h("dt", {}, "Made by"), h("dd", {}, focus.author || "—"), h("dt", {}, "When"), h("dd", {}, when(focus.created)),
      h("dt", {}, "How"), h("dd", {}, focus.pipeline + (focus.recipe?.params?.mode ? ` (${focus.recipe.params.mode}, mutation ${focus.recipe.params.mutation})` : "")),
      h("dt", {}, "Parents"), h("dd", {}, links(tree.parents)), h("dt", {}, "Children"), h("dd", {}, links(tree.children))) : null,
    h("a", { class: "button", href: `#/gallery/${tree.id}` }, "Open in the gallery"));
}

export default { name: "lineage", title: "Lineage", build, show };
