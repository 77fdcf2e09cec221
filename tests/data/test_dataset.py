"""Loading a folder as tensors: the content-keyed cache, manifests, and reproducible batches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from artforge.data import DataConfig, build_manifest, cache_root, load_dataset, manifest_sha256
from artforge.data import dataset as dataset_mod
from artforge.data import images as images_mod
from artforge.data.check import scan_folder
from artforge.errors import DataError


def _noise(seed: int, size) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), np.uint8))


@pytest.fixture
def folder(tmp_path) -> Path:
    """Five usable images of different shapes, one duplicate, two bad files."""
    d = tmp_path / "art"
    (d / "more").mkdir(parents=True)
    for i, size in enumerate([(40, 40), (90, 30), (30, 70), (64, 48)]):
        _noise(i, size).save(d / f"img{i}.png")
    _noise(9, (50, 40)).save(d / "more" / "photo.jpg")
    shutil.copy(d / "img0.png", d / "more" / "copy.png")
    (d / "empty.png").write_bytes(b"")
    (d / "readme.txt").write_text("hello")
    return d


@pytest.fixture
def count_decodes(monkeypatch):
    calls = []
    real = images_mod.decode_image

    def counting(path, *a, **k):
        calls.append(Path(path).name)
        return real(path, *a, **k)

    monkeypatch.setattr(images_mod, "decode_image", counting)
    return calls


def cfg(folder: Path, cache: Path, **kw) -> DataConfig:
    return DataConfig(**{"path": str(folder), "resolution": 16, "cache_dir": str(cache), **kw})


@pytest.mark.parametrize("crop", ["center", "pad", "random"])
def test_shapes_per_crop_policy(folder, tmp_path, crop):
    ds = load_dataset(cfg(folder, tmp_path / "cache", crop=crop))
    assert len(ds) == 5 and [b.path for b in ds.report.bad] == ["empty.png", "readme.txt"]
    assert all(t.dtype == torch.uint8 and t.shape[0] == 3 for t in ds.images)
    shapes = sorted(tuple(t.shape[1:]) for t in ds.images)
    if crop == "random":
        # Short side R; 90x30 and 30x70 keep only 2R of their long side; 64x48 keeps all of it.
        assert shapes == [(16, 16), (16, 20), (16, 21), (16, 32), (32, 16)]
        assert ds.as_tensor() is None
    else:
        assert set(shapes) == {(16, 16)} and ds.as_tensor().shape == (5, 3, 16, 16)
    b = ds.batch([0, 1, 2, 3, 4, 0], torch.Generator().manual_seed(0))
    assert b.shape == (6, 3, 16, 16) and b.dtype == torch.float32
    assert -1.0 <= b.min() and b.max() <= 1.0


def test_second_load_decodes_nothing(folder, tmp_path, count_decodes):
    c = cfg(folder, tmp_path / "cache")
    first = load_dataset(c)
    assert len(count_decodes) == 6  # 5 images + the text file; the duplicate is decoded once, zero bytes never
    second = load_dataset(c)
    assert len(count_decodes) == 6, "a cached load must not decode again"
    assert all(torch.equal(a, b) for a, b in zip(first.images, second.images))
    assert second.report.to_json() == first.report.to_json()
    assert second.manifest_sha256 == first.manifest_sha256


def test_cache_files(folder, tmp_path):
    c = cfg(folder, tmp_path / "cache")
    ds = load_dataset(c)
    key = dataset_mod.cache_key(scan_folder(folder, c), c)
    store = tmp_path / "cache" / "datasets"
    tensors = load_file(str(store / f"{key}.safetensors"))
    assert sorted(tensors) == [f"img_{i:05d}" for i in range(5)]
    index = json.loads((store / f"{key}.json").read_text())
    assert len(index["verdicts"]) == 6 and index["cache_version"] == dataset_mod.CACHE_VERSION
    assert not [p for p in store.iterdir() if p.name.startswith(".")], "temporary files left behind"
    assert ds.images[0].shape == (3, 16, 16)


@pytest.mark.parametrize("damage", [b"", b"garbage", b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_damaged_cache_is_rebuilt(folder, tmp_path, count_decodes, damage):
    c = cfg(folder, tmp_path / "cache")
    first = load_dataset(c)
    for p in (tmp_path / "cache" / "datasets").glob("*.safetensors"):
        p.write_bytes(damage)
    again = load_dataset(c)
    assert len(count_decodes) == 12
    assert all(torch.equal(a, b) for a, b in zip(first.images, again.images))
    assert len(load_dataset(c).images) == 5 and len(count_decodes) == 12  # and the rebuilt cache works


def test_damaged_index_is_rebuilt(folder, tmp_path, count_decodes):
    c = cfg(folder, tmp_path / "cache")
    load_dataset(c)
    for p in (tmp_path / "cache" / "datasets").glob("*.json"):
        p.write_text('{"cache_version": 1, "key": ')
    assert len(load_dataset(c)) == 5 and len(count_decodes) == 12


def test_same_files_elsewhere_same_hash(folder, tmp_path, count_decodes):
    a = load_dataset(cfg(folder, tmp_path / "cache"))
    moved = shutil.copytree(folder, tmp_path / "elsewhere" / "art2")
    b = load_dataset(cfg(moved, tmp_path / "cache"))
    assert a.manifest_sha256 == b.manifest_sha256 and a.manifest["root"] != b.manifest["root"]
    assert len(count_decodes) == 6, "same content in another folder reuses the cache"
    (moved / "img3.png").unlink()
    assert load_dataset(cfg(moved, tmp_path / "cache")).manifest_sha256 != a.manifest_sha256


@pytest.mark.parametrize("change", [{"resolution": 32}, {"crop": "pad"}, {"background": "#000000"},
                                    {"max_pixels": 1000}])
def test_settings_that_change_pixels_change_the_cache_key(folder, tmp_path, change):
    base = cfg(folder, tmp_path)
    other = cfg(folder, tmp_path, **change)
    scan = scan_folder(folder, base)
    assert dataset_mod.cache_key(scan, base) != dataset_mod.cache_key(scan, other)


def test_flip_setting_changes_the_manifest_hash_but_not_the_cache(folder, tmp_path):
    a, b = cfg(folder, tmp_path), cfg(folder, tmp_path, hflip=False)
    scan = scan_folder(folder, a)
    assert dataset_mod.cache_key(scan, a) == dataset_mod.cache_key(scan, b)
    report = load_dataset(a).report
    assert manifest_sha256(build_manifest(report, a)) != manifest_sha256(build_manifest(report, b))


def test_manifest_contents(folder, tmp_path):
    (folder / "dataset.toml").write_text('licence = "CC-BY-4.0"\nconsent = "mine"\n')
    m = load_dataset(cfg(folder, tmp_path)).manifest
    json.dumps(m)
    assert m["licence"] == "CC-BY-4.0" and m["consent"] == "mine"
    assert [f["path"] for f in m["files"]] == ["img0.png", "img1.png", "img2.png", "img3.png", "more/photo.jpg"]
    assert set(m["files"][0]) == {"path", "sha256", "bytes"}
    assert m["counts"] == {"files": 8, "ok": 5, "bad": 2, "duplicates": 1}
    assert {s["path"]: s["reason"] for s in m["skipped"]} == {
        "empty.png": "zero bytes", "readme.txt": "not an image", "more/copy.png": "duplicate of img0.png"}
    assert m["preprocessing"]["resolution"] == 16 and m["preprocessing"]["crop"] == "center"


def test_batches_are_a_function_of_the_generator(folder, tmp_path):
    ds = load_dataset(cfg(folder, tmp_path, crop="random"))
    idx = [0, 1, 2, 3, 4] * 4
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(ds.batch(idx, g1), ds.batch(idx, g2))
    assert torch.equal(ds.batch(torch.tensor(idx), g1), ds.batch(idx, g2))  # list or tensor
    state = g1.get_state()
    x = ds.batch(idx, g1)
    g1.set_state(state)  # a resumed run restores the generator and sees the same batch
    assert torch.equal(x, ds.batch(idx, g1))
    assert not torch.equal(x, ds.batch(idx, torch.Generator().manual_seed(6)))
    wide = ds.batch([1] * 32, torch.Generator().manual_seed(0))  # the 90x30 image: crops vary
    assert len({tuple(t.flatten().tolist()) for t in wide}) > 4


def test_hflip(folder, tmp_path):
    plain = load_dataset(cfg(folder, tmp_path, hflip=False))
    flipping = load_dataset(cfg(folder, tmp_path, hflip=True))
    ref = plain.as_tensor()[[0] * 32].float() / 127.5 - 1
    assert torch.equal(plain.batch([0] * 32, torch.Generator().manual_seed(1)), ref)
    out = flipping.batch([0] * 32, torch.Generator().manual_seed(1))
    flipped = torch.tensor([torch.equal(o, r.flip(-1)) and not torch.equal(o, r) for o, r in zip(out, ref)])
    kept = torch.tensor([torch.equal(o, r) for o, r in zip(out, ref)])
    assert flipped.any() and kept.any() and bool((flipped | kept).all())
    # Randomness drawn per batch does not depend on the flip setting: later batches stay aligned.
    ga, gb = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    plain.batch([0, 1, 2], ga)
    flipping.batch([0, 1, 2], gb)
    assert torch.equal(ga.get_state(), gb.get_state())


def test_empty_batch(folder, tmp_path):
    ds = load_dataset(cfg(folder, tmp_path))
    assert ds.batch([], torch.Generator()).shape == (0, 3, 16, 16)


def test_unusable_inputs_raise_one_line_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [(tmp_path / "missing", "not found"), (empty, "empty"), (bad, "no usable images")]
    for path, words in cases:
        with pytest.raises(DataError, match=words) as e:
            load_dataset(cfg(path, tmp_path / "cache"))
        assert "\n" not in str(e.value)
    with pytest.raises(DataError, match="power of two"):
        load_dataset(DataConfig(path=str(bad), resolution=100))


def test_cache_root_is_computed_when_called(monkeypatch, tmp_path):
    monkeypatch.setenv("ARTFORGE_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root(DataConfig()) == tmp_path / "env"
    assert cache_root(DataConfig(cache_dir=str(tmp_path / "own"))) == tmp_path / "own"
    monkeypatch.delenv("ARTFORGE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root(DataConfig()) == tmp_path / "xdg" / "artforge"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root(DataConfig()) == tmp_path / "home" / ".cache" / "artforge"


def test_a_read_failure_is_not_cached(folder, tmp_path, monkeypatch):
    """A file that vanishes between the scan and its decoding is skipped in this load only: the cache is keyed
    by content, and the content was fine (a cached 'unreadable' once cost a run 276 of its 400 images)."""
    c = cfg(folder, tmp_path / "cache")
    real = images_mod.decode_image

    def vanished(path, *a, **k):
        if Path(path).name == "img2.png":
            raise FileNotFoundError(2, "No such file or directory")
        return real(path, *a, **k)

    monkeypatch.setattr(images_mod, "decode_image", vanished)
    first = load_dataset(c)
    assert len(first) == 4 and ("img2.png", "unreadable: No such file or directory") in [
        (b.path, b.reason) for b in first.report.bad]
    monkeypatch.setattr(images_mod, "decode_image", real)
    again = load_dataset(c)
    assert len(again) == 5 and [b.path for b in again.report.bad] == ["empty.png", "readme.txt"]
