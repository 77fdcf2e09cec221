"""Create's interpolate and stylize routes: frames and stylized pictures stored as artworks with their recipes
and parents, each downloaded file replaying bit for bit; every refusal in one line; the pipelines list."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from artforge.pipelines import ArbitraryStylePipeline, FastStylePipeline, InterpolatePipeline
from artforge.pipelines.replay import replay
from style_runs import make_run

pytestmark = pytest.mark.usefixtures("one_thread")


def made(client, n=2, seed=3, **kw) -> list[dict]:
    r = client.post("/api/generate", json={"n": n, "seed": seed, "no_copies": False, **kw})
    assert r.status_code == 201, r.text
    return r.json()["artworks"]


def replays(client, aid, tmp_path) -> bool | None:
    src = tmp_path / f"art{aid}.png"
    src.write_bytes(client.get(f"/api/artworks/{aid}/download").content)
    return replay(src, tmp_path / f"again{aid}.png")[1]


def pixels(client, aid) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(client.get(f"/api/artworks/{aid}/image").content)))


def test_a_morph_between_two_artworks_keeps_each_frame_with_its_parents(owner, tmp_path):
    a, b = made(owner, seed=3, truncation=0.8)
    r = owner.post("/api/interpolate", json={"parents": [a["id"], b["id"]], "frames": 4})
    assert r.status_code == 201, r.text
    frames = r.json()["artworks"]
    assert [f["recipe"]["params"]["frame"] for f in frames] == [0, 1, 2, 3]
    assert {f["pipeline"] for f in frames} == {"interpolate"} and {f["model"] for f in frames} == {"starter"}
    p = frames[0]["recipe"]["params"]
    assert (p["seeds"], p["truncation"], p["frames"]) == ([3, 4], 0.8, 4)
    assert frames[2]["recipe"]["parents"] == [{"artwork": a["id"], "sha256": a["sha256"]},
                                              {"artwork": b["id"], "sha256": b["sha256"]}]
    assert owner.get(f"/api/artworks/{frames[2]['id']}/lineage").json()["parents"] == [a["id"], b["id"]]
    assert replays(owner, frames[2]["id"], tmp_path) is True          # one frame of the morph, alone


def test_a_morph_through_seeds_equals_the_pipelines_frames(owner):
    from artforge.pipelines import load_model

    r = owner.post("/api/interpolate", json={"seeds": [5, 6], "frames": 3, "truncation": 0.9})
    assert r.status_code == 201, r.text
    frames = r.json()["artworks"]
    want = InterpolatePipeline(load_model("starter"))(seeds=[5, 6], frames=3, truncation=0.9).images
    assert [f["recipe"]["parents"] for f in frames] == [[], [], []]
    for f, img in zip(frames, want):
        assert np.array_equal(pixels(owner, f["id"]), np.asarray(img))


def test_interpolate_refusals(owner, viewer):
    a, b = made(owner, seed=20)
    c = made(owner, n=1, seed=30, truncation=0.5)[0]
    kid = owner.post("/api/breed", json={"parents": [a["id"], b["id"]], "n": 1}).json()["artworks"][0]
    cases = [
        ({"parents": [a["id"], b["id"]], "seeds": [1, 2]}, 422,
         "seeds: give parents or seeds and truncation, not both (the parents' recipes give their seeds and truncation)"),
        ({"parents": [a["id"]]}, 422, "parents: give two different artworks to morph between"),
        ({"parents": [a["id"], a["id"]]}, 422, "parents: give two different artworks to morph between"),
        ({"parents": [a["id"], 999]}, 404, "no artwork 999"),
        ({"parents": [a["id"], kid["id"]]}, 422, f"parents: artwork {kid['id']} is a breed; a morph goes between "
                                                 "pictures made by generate (their recipes give their seeds)"),
        ({"parents": [a["id"], c["id"]]}, 422, f"parents: artwork {a['id']} was made with truncation 1.0 and artwork "
                                               f"{c['id']} with 0.5; morph between pictures of one truncation"),
        ({"seeds": [4]}, 422, "seeds: give two or more seeds to morph between, e.g. 1,2"),
        ({"seeds": [1, 2], "frames": 65}, 422, "frames: the studio makes at most 64 pictures per request; ask for "
                                               "fewer frames"),
        ({"seeds": [1, 2], "model": "nothing"}, 404, "model 'nothing' not found"),
        ({"seeds": [1, 2], "frames": 1}, 422, "frames"),
    ]
    for body, status, message in cases:
        r = owner.post("/api/interpolate", json=body)
        assert r.status_code == status and r.json()["detail"].startswith(message), (body, r.text)
    assert viewer.post("/api/interpolate", json={"seeds": [1, 2]}).status_code == 403
    assert owner.get("/api/artworks").json()["total"] == 4                 # nothing was added


@pytest.fixture
def fast_style(studio):
    return make_run(studio.settings.runs_dir / "ink", "transform-net").name


def test_stylize_fast_paints_an_artwork_and_records_it_as_parent(owner, fast_style, tmp_path):
    content = made(owner, n=1, seed=40)[0]
    r = owner.post("/api/stylize/fast", json={"content": content["id"], "model": fast_style})
    assert r.status_code == 201, r.text
    (art,) = r.json()["artworks"]
    assert (art["pipeline"], art["model"]) == ("stylize.fast", "ink")
    (parent,) = art["recipe"]["parents"]
    assert (parent["artwork"], parent["sha256"], parent["role"]) == (content["id"], content["sha256"], "content")
    assert owner.get(f"/api/artworks/{art['id']}/lineage").json()["parents"] == [content["id"]]
    assert pixels(owner, art["id"]).shape == (64, 64, 3)                 # size 0: the content's own size
    assert replays(owner, art["id"], tmp_path) is True


def test_stylize_arbitrary_takes_style_artworks(owner, tmp_path):
    content, style = made(owner, seed=50)
    r = owner.post("/api/stylize/arbitrary", json={"content": content["id"], "styles": [style["id"]], "size": 96,
                                                   "alpha": 0.8})
    assert r.status_code == 201, r.text
    (art,) = r.json()["artworks"]
    assert (art["pipeline"], art["model"]) == ("stylize.arbitrary", "starter:style-arbitrary")
    assert [(p["artwork"], p["role"]) for p in art["recipe"]["parents"]] == [(content["id"], "content"),
                                                                             (style["id"], "style")]
    assert art["recipe"]["params"]["alpha"] == 0.8 and pixels(owner, art["id"]).shape == (96, 96, 3)
    assert owner.get(f"/api/artworks/{art['id']}/lineage").json()["parents"] == sorted([content["id"], style["id"]])
    assert replays(owner, art["id"], tmp_path) is True


def test_stylize_refusals(owner, viewer, fast_style):
    a, b = made(owner, seed=60)
    cases = [
        ("fast", {"content": a["id"], "model": "starter"}, 422,
         "model: 'starter' is a gan model; stylize.fast needs a style model of arch transform-net"),
        ("fast", {"content": a["id"], "model": "starter:style-arbitrary"}, 422,
         "model: 'starter:style-arbitrary' is a style model of arch adain-lite0; stylize.fast needs a style model "
         "of arch transform-net"),
        ("arbitrary", {"content": a["id"], "styles": [b["id"]], "model": fast_style}, 422,
         "model: 'ink' is a style model of arch transform-net; stylize.arbitrary needs a style model of arch "
         "adain-lite0"),
        ("fast", {"content": 999, "model": fast_style}, 404, "no artwork 999"),
        ("arbitrary", {"content": a["id"], "styles": [999]}, 404, "no artwork 999"),
        ("fast", {"content": a["id"], "model": "../x"}, 400, "model '../x'"),
        ("fast", {"content": a["id"]}, 422, "model"),
        ("arbitrary", {"content": a["id"], "styles": []}, 422, "styles"),
        ("arbitrary", {"content": a["id"], "styles": [b["id"]], "alpha": 2}, 422, "alpha"),
    ]
    for kind, body, status, message in cases:
        r = owner.post(f"/api/stylize/{kind}", json=body)
        assert r.status_code == status and message in r.json()["detail"] if isinstance(r.json()["detail"], str) \
            else message in str(r.json()["detail"]), (kind, body, r.text)
    assert viewer.post("/api/stylize/fast", json={"content": a["id"], "model": fast_style}).status_code == 403
    assert owner.get("/api/artworks").json()["total"] == 2


def test_the_pipelines_list_says_where_the_studio_runs_interpolate_and_stylize(owner):
    got = {p["name"]: p for p in owner.get("/api/pipelines").json()}
    where = {name: (got[name]["studio_endpoint"], got[name]["studio_page"])
             for name in ("interpolate", "stylize.fast", "stylize.arbitrary", "stylize.optimize")}
    assert where == {"interpolate": ("/api/interpolate", "create"), "stylize.fast": ("/api/stylize/fast", "create"),
                     "stylize.arbitrary": ("/api/stylize/arbitrary", "create"), "stylize.optimize": (None, None)}
    for cls in (InterpolatePipeline, FastStylePipeline, ArbitraryStylePipeline):
        assert got[cls.name]["params"] == cls.schema()["params"]            # the forms' fields
