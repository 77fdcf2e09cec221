"""Breeding: children by crossover/blend/mutation, parents recorded, lineage across generations, replay."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from artforge.pipelines.replay import replay


def test_breed_two_images_and_their_children(studio, owner, tmp_path):
    a, b = (x["id"] for x in owner.post("/api/generate", json={"n": 2, "seed": 3}).json()["artworks"])
    r = owner.post("/api/breed", json={"parents": [a, b], "n": 3, "mode": "crossover", "seed": 1})
    assert r.status_code == 201, r.text
    kids = r.json()["artworks"]
    assert len(kids) == 3 and all(k["pipeline"] == "breed" for k in kids)
    assert kids[0]["recipe"]["parents"] == [{"artwork": a, "sha256": owner.get(f"/api/artworks/{a}").json()["sha256"]},
                                            {"artwork": b, "sha256": owner.get(f"/api/artworks/{b}").json()["sha256"]}]
    assert len(kids[0]["recipe"]["params"]["latent"]) == 64
    # A second generation: blend a child with a parent; the tree reaches back two generations.
    g2 = owner.post("/api/breed", json={"parents": [kids[0]["id"], a], "n": 1, "mode": "blend"}).json()["artworks"]
    tree = owner.get(f"/api/artworks/{g2[0]['id']}/lineage").json()
    assert tree["parents"] == sorted([kids[0]["id"], a])
    assert {n["id"] for n in tree["nodes"]} == {a, b, kids[0]["id"], g2[0]["id"]}
    assert owner.get(f"/api/artworks/{a}/lineage").json()["children"] == sorted([k["id"] for k in kids] + [g2[0]["id"]])
    # The downloaded file replays to the same pixels from its recipe alone.
    mutant = owner.post("/api/breed", json={"parents": [a], "mode": "mutate", "mutation": 0.5, "n": 1}).json()
    aid = mutant["artworks"][0]["id"]
    src = tmp_path / "child.png"
    src.write_bytes(owner.get(f"/api/artworks/{aid}/download").content)
    _, same = replay(src, tmp_path / "again.png", model="starter")
    assert same is True


def test_breed_children_are_deterministic_and_mutation_matters(owner):
    a, b = (x["id"] for x in owner.post("/api/generate", json={"n": 2, "seed": 8}).json()["artworks"])

    def kid(**kw):
        art = owner.post("/api/breed", json={"parents": [a, b], "n": 1, **kw}).json()["artworks"][0]
        return np.asarray(Image.open(io.BytesIO(owner.get(f"/api/artworks/{art['id']}/image").content)))

    assert np.array_equal(kid(seed=4, mutation=0.2), kid(seed=4, mutation=0.2))
    assert not np.array_equal(kid(seed=4, mutation=0.0), kid(seed=4, mutation=0.9))


def test_breed_bad_input(studio, owner, viewer):
    a, b = (x["id"] for x in owner.post("/api/generate", json={"n": 2}).json()["artworks"])
    up = owner.post("/api/artworks/upload", files={"file": ("x.png", _png())}).json()["id"]
    cases = [({"parents": [a]}, 422, "at least two parents"), ({"parents": [a, 999]}, 404, "no artwork 999"),
             ({"parents": [a, up]}, 422, "only images made by generate or breed"),
             ({"parents": [a, b], "mode": "fuse"}, 422, "not one of"), ({"parents": [a, b], "mutation": 2}, 422,
                                                                         "out of range"),
             ({"parents": []}, 422, "parents"), ({"parents": [a, b], "n": 65}, 422, "out of range")]
    for body, status, message in cases:
        r = owner.post("/api/breed", json=body)
        assert r.status_code == status and message in r.json()["detail"], (body, r.status_code, r.text)
    assert viewer.post("/api/breed", json={"parents": [a, b]}).status_code == 403
    # An uploaded file whose recipe claims a latent it cannot have: refused, never a 500.
    import json
    from PIL import PngImagePlugin
    from artforge.provenance.recipe import RECIPE_KEY
    for params in ({"image_seed": 10**30}, {"image_seed": 1, "truncation": "x"}):
        forged = {**owner.get(f"/api/artworks/{a}").json()["recipe"], "params": params}
        info = PngImagePlugin.PngInfo()
        info.add_itxt(RECIPE_KEY, json.dumps(forged))
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, format="PNG", pnginfo=info)
        fid = owner.post("/api/artworks/upload", files={"file": ("f.png", buf.getvalue())}).json()["id"]
        r = owner.post("/api/breed", json={"parents": [a, fid]})
        assert r.status_code == 422 and "only images made by generate or breed" in r.json()["detail"], r.text


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, format="PNG")
    return buf.getvalue()
