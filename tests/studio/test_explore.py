"""The latent explorer: directions (cached per model), deterministic previews, save and bit-identical replay."""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
import pytest
from PIL import Image

from artforge.pipelines import ExplorePipeline, GeneratePipeline, load_model
from artforge.pipelines.explore import latent_directions
from artforge.pipelines.replay import replay


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_directions_are_strongest_first_and_cached(studio, owner, viewer):
    r = viewer.get("/api/models/starter/directions?k=8")
    assert r.status_code == 200, r.text
    dirs = r.json()["directions"]
    assert [d["index"] for d in dirs] == list(range(8))
    var = [d["variance"] for d in dirs]
    assert var == sorted(var, reverse=True) and 0 < sum(var) <= 1 and var[0] > 0.05
    cached = list((studio.settings.cache_dir / "directions").glob("*.safetensors"))
    assert len(cached) == 1 and cached[0].name.startswith(load_model("starter").sha256)
    t0 = time.perf_counter()
    assert viewer.get("/api/models/starter/directions?k=3").json()["directions"] == dirs[:3]
    assert time.perf_counter() - t0 < 1.0
    for query, status in (("k=0", 422), ("k=33", 422), ("k=x", 422)):
        assert viewer.get(f"/api/models/starter/directions?{query}").status_code == status
    assert viewer.get("/api/models/nothing/directions").status_code == 404
    assert viewer.get("/api/models/..%2F..%2Fetc/directions").status_code in (400, 404)


def test_directions_are_orthonormal_and_deterministic():
    handle = load_model("starter")
    a, va = latent_directions(handle, k=8)
    b, vb = latent_directions(handle, k=8)
    assert a.equal(b) and va.equal(vb) and a.shape == (8, handle.z_dim)
    assert np.allclose(a.norm(dim=1).numpy(), 1.0, atol=1e-5)
    gram = (a @ a.T).numpy()
    assert np.abs(gram - np.eye(8)).max() < 1e-5          # right singular vectors: orthonormal


def test_preview_is_deterministic_fast_and_moves_with_the_sliders(owner, viewer):
    body = {"model": "starter", "seed": 11, "truncation": 0.8, "offsets": [0.0] * 8}
    r = viewer.post("/api/explore", json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    base = r.content
    assert viewer.post("/api/explore", json=body).content == base
    # no offsets: the image generate makes for this seed
    gen = GeneratePipeline(load_model("starter"))(n=1, seed=11, truncation=0.8, batch_size=1)
    assert np.array_equal(pixels(base), np.asarray(gen.images[0]))
    moved = viewer.post("/api/explore", json={**body, "offsets": [3.0, 0, -2.0]}).content
    other = viewer.post("/api/explore", json={**body, "offsets": [0, 3.0]}).content
    assert not np.array_equal(pixels(moved), pixels(base)) and not np.array_equal(pixels(moved), pixels(other))
    times = []
    for i in range(7):
        t0 = time.perf_counter()
        assert viewer.post("/api/explore", json={**body, "offsets": [i * 0.5 - 1.5, 1.0]}).status_code == 200
        times.append(time.perf_counter() - t0)
    assert statistics.median(times) < 0.5, times          # ~20 ms alone; generous for a busy CI machine


@pytest.mark.parametrize("change, status, word", [
    ({"offsets": [0, 6.0]}, 422, "offsets"), ({"offsets": [-5.5]}, 422, "offsets"),
    ({"offsets": [0.0] * 33}, 422, "offsets"), ({"offsets": ["a"]}, 422, "offsets"),
    ({"seed": -1}, 422, "seed"), ({"truncation": 3}, 422, "truncation"), ({"model": "nothing"}, 404, "not found"),
    ({"model": "../../etc"}, 400, "starter"), ({"colour": "red"}, 422, "colour"),
])
def test_explore_bad_input(owner, change, status, word):
    for path in ("/api/explore", "/api/explore/save"):
        r = owner.post(path, json={"model": "starter", "seed": 1, "offsets": [1.0], **change})
        assert r.status_code == status and word in r.json()["detail"], (path, r.status_code, r.text)


def test_nan_offsets_are_refused(owner):
    r = owner.post("/api/explore", content=b'{"offsets": [NaN]}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "offsets" in r.json()["detail"]


def test_save_records_a_recipe_that_replays_bit_for_bit(owner, viewer, tmp_path, cli):
    body = {"model": "starter", "seed": 5, "truncation": 0.9, "offsets": [2.5, -1.0, 0.0, 4.0]}
    assert viewer.post("/api/explore/save", json=body).status_code == 403
    r = owner.post("/api/explore/save", json=body)
    assert r.status_code == 201, r.text
    art = r.json()
    recipe = art["recipe"]
    assert art["pipeline"] == "explore" and art["seed"] == 5
    assert recipe["params"]["offsets"] == [2.5, -1.0, 0.0, 4.0] and len(recipe["params"]["latent"]) == 64
    assert "GANSpace" in recipe["params"]["directions"]["method"]
    saved = owner.get(f"/api/artworks/{art['id']}/image").content
    assert np.array_equal(pixels(saved), pixels(owner.post("/api/explore", json=body).content))
    src = tmp_path / "explored.png"
    src.write_bytes(owner.get(f"/api/artworks/{art['id']}/download").content)
    assert replay(src, tmp_path / "again.png")[1] is True
    assert cli("replay", src, "--out", tmp_path / "cli.png") == 0
    assert np.array_equal(pixels((tmp_path / "cli.png").read_bytes()), pixels(saved))
    # the pipeline on its own makes the same picture
    handle = load_model("starter")
    dirs, _ = latent_directions(handle)
    alone = ExplorePipeline(handle).explore(dirs, body["offsets"], seed=5, truncation=0.9)
    assert np.array_equal(np.asarray(alone.images[0]), pixels(saved))


def test_the_exact_directions_match_a_sampled_pca_of_the_first_layer():
    """What the closed form claims, checked by sampling: the first layer is affine in z, and the variance
    of its output along each component is the fraction reported."""
    import torch

    from artforge.pipelines.explore import first_layer, first_layer_matrix

    handle = load_model("starter")
    A = first_layer_matrix(handle)                                                   # (F, z_dim)
    z = torch.randn(2048, handle.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = first_layer(handle.module)(z[:, :, None, None]).flatten(1).double()     # (N, F)
    c = y[0] - A @ z[0].double()
    assert torch.allclose(y, z.double() @ A.T + c, atol=1e-4)                       # affine
    dirs, variance = latent_directions(handle, k=4)
    yc = y - y.mean(0)
    total = yc.pow(2).sum(1).mean()
    for v, frac in zip(dirs.double(), variance):
        u = A @ v / (A @ v).norm()                                                   # the component in y
        assert abs(float((yc @ u).pow(2).mean() / total) - float(frac)) < 0.1 * float(frac) + 1e-3
