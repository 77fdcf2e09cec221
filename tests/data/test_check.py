"""Scanning a folder: every file is ok, bad with a reason, or a duplicate; clear errors otherwise."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artforge.data import DataConfig, check_config, check_folder
from artforge.data.check import require_usable
from artforge.errors import DataError

GOOD = ["a.png", "cmyk.jpg", "d.bmp", "e.tiff", "f.gif", "grey16.png", "pal.png", "rgba.png", "rot.jpg",
        "sub/nested/b.jpg", "w.webp"]
BAD = {
    "bomb.png": "over pixel limit (10000×10000 > max_pixels=1000000)",
    "notes.txt": "not an image",
    "text.png": "not an image",
    "trunc.jpg": "truncated",
    "trunc.png": "truncated",
    "zero.png": "zero bytes",
}


def _bomb(width: int, height: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    idat = zlib.compress(bytes(height * (1 + (width + 7) // 8)), 1)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _noise(seed: int, size=(40, 30)) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), np.uint8))


def make_corpus(root: Path) -> Path:
    """Good images in every format and mode, plus every kind of bad file the check must name."""
    (root / "sub" / "nested").mkdir(parents=True)
    _noise(1).save(root / "a.png")
    _noise(2).save(root / "sub" / "nested" / "b.jpg")
    _noise(3).convert("CMYK").save(root / "cmyk.jpg")
    _noise(4).save(root / "d.bmp")
    _noise(5).save(root / "e.tiff")
    _noise(6).save(root / "f.gif")
    _noise(7).save(root / "w.webp")
    Image.fromarray(np.full((20, 20), 32768, np.uint16)).save(root / "grey16.png")
    pal = Image.new("P", (12, 12), 1)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    pal.save(root / "pal.png", transparency=0)
    Image.new("RGBA", (12, 12), (0, 0, 255, 0)).save(root / "rgba.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    _noise(8, (20, 10)).save(root / "rot.jpg", exif=exif)
    # The bad ones.
    (root / "zero.png").write_bytes(b"")
    for name, fmt in (("trunc.jpg", "JPEG"), ("trunc.png", "PNG")):
        _noise(9, (64, 64)).save(root / name, fmt)
        data = (root / name).read_bytes()
        (root / name).write_bytes(data[: len(data) // 2])
    (root / "text.png").write_text("this is not a picture\n")
    (root / "notes.txt").write_text("drawn in 2023\n")
    (root / "bomb.png").write_bytes(_bomb(10_000, 10_000))
    # Duplicates, and files that must be ignored.
    shutil.copy(root / "a.png", root / "dup.png")
    shutil.copy(root / "a.png", root / "sub" / "zz-copy.png")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / ".hidden").mkdir()
    _noise(10).save(root / ".hidden" / "secret.png")
    (root / "dataset.toml").write_text('licence = "CC-BY-4.0"\nconsent = "my own work"\n')
    return root


@pytest.fixture
def corpus(tmp_path) -> Path:
    return make_corpus(tmp_path / "corpus")


def cfg_for(root: Path, **kw) -> DataConfig:
    return DataConfig(path=str(root), max_pixels=1_000_000, **kw)


def test_every_file_gets_a_verdict(corpus):
    report = check_folder(corpus, cfg_for(corpus))
    assert [e.path for e in report.ok] == GOOD
    assert {b.path: b.reason for b in report.bad} == BAD
    assert [(d.path, d.duplicate_of) for d in report.duplicates] == [("dup.png", "a.png"),
                                                                      ("sub/zz-copy.png", "a.png")]
    assert report.licence == "CC-BY-4.0" and report.consent == "my own work"


def test_entries_describe_the_file(corpus):
    entries = {e.path: e for e in check_folder(corpus, cfg_for(corpus)).ok}
    rot = entries["rot.jpg"]
    assert (rot.width, rot.height, rot.format) == (10, 20, "JPEG")  # after EXIF orientation
    assert entries["cmyk.jpg"].mode == "CMYK" and entries["grey16.png"].mode.startswith("I")
    assert entries["a.png"].bytes == (corpus / "a.png").stat().st_size
    assert len(entries["a.png"].sha256) == 64


def test_json_and_summary(corpus):
    report = check_folder(corpus, cfg_for(corpus))
    data = json.loads(json.dumps(report.to_json()))
    assert data["counts"] == {"files": 19, "ok": 11, "bad": 6, "duplicates": 2}
    assert data["root"] == str(corpus.resolve()) and data["licence"] == "CC-BY-4.0"
    assert {"path", "sha256", "bytes", "width", "height", "mode", "format"} == set(data["ok"][0])
    text = report.summary()
    assert "11 usable" in text and "zero.png: zero bytes" in text and len(text.splitlines()) <= 10


def test_file_size_limit(corpus):
    report = check_folder(corpus, cfg_for(corpus, max_file_mb=0.001))  # ~1 KB
    reasons = {b.path: b.reason for b in report.bad}
    assert reasons["a.png"].startswith("file over max_file_mb")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_leading_outside_are_not_followed(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    _noise(1).save(outside / "x.png")
    _noise(2).save(root / "in.png")
    os.symlink(outside / "x.png", root / "link-out.png")
    os.symlink(outside, root / "dir-out")
    os.symlink(root / "in.png", root / "link-in.png")
    os.symlink(root / "gone.png", root / "broken.png")
    report = check_folder(root, cfg_for(root))
    reasons = {b.path: b.reason for b in report.bad}
    assert reasons["link-out.png"].startswith("symlink leads outside")
    assert reasons["dir-out"].startswith("symlink leads outside")
    assert reasons["broken.png"] == "broken symlink"
    assert [e.path for e in report.ok] == ["in.png"]
    assert [(d.path, d.duplicate_of) for d in report.duplicates] == [("link-in.png", "in.png")]


@pytest.mark.parametrize("text, licence, consent", [
    ('license = "MIT"\n', "MIT", "unknown"),
    ('licence = "CC0-1.0"\nlicense = "other"\nconsent = "yes"\n', "CC0-1.0", "yes"),
    ("", "unknown", "unknown"),
])
def test_licence_spellings(tmp_path, text, licence, consent):
    _noise(1).save(tmp_path / "a.png")
    (tmp_path / "dataset.toml").write_text(text)
    report = check_folder(tmp_path, cfg_for(tmp_path))
    assert (report.licence, report.consent) == (licence, consent)


@pytest.mark.parametrize("text", ["licence = CC-BY\n", "licence = 4\n"])
def test_bad_dataset_toml_is_named(tmp_path, text):
    _noise(1).save(tmp_path / "a.png")
    (tmp_path / "dataset.toml").write_text(text)
    with pytest.raises(DataError) as e:
        check_folder(tmp_path, cfg_for(tmp_path))
    assert "dataset.toml" in str(e.value) and "\n" not in str(e.value)


def _one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg and msg
    return msg


def test_missing_folder(tmp_path):
    with pytest.raises(DataError) as e:
        check_folder(tmp_path / "nope", cfg_for(tmp_path))
    assert _one_line(e).startswith("data folder not found: ") and "'builtin'" in _one_line(e)


def test_not_a_folder(tmp_path):
    (tmp_path / "f.png").write_bytes(b"x")
    with pytest.raises(DataError) as e:
        check_folder(tmp_path / "f.png", cfg_for(tmp_path))
    assert "not a folder" in _one_line(e)


def test_empty_folder_ignores_hidden_files(tmp_path):
    (tmp_path / ".keep").write_text("")
    (tmp_path / "dataset.toml").write_text('licence = "MIT"\n')
    with pytest.raises(DataError) as e:
        check_folder(tmp_path, cfg_for(tmp_path))
    assert "empty" in _one_line(e) and str(tmp_path) in _one_line(e)


def test_all_bad_names_the_commonest_reason(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"")
    (tmp_path / "c.jpg").write_text("nope")
    report = check_folder(tmp_path, cfg_for(tmp_path))
    with pytest.raises(DataError) as e:
        require_usable(report)
    msg = _one_line(e)
    assert "no usable images" in msg and "all 3 file(s)" in msg and "'zero bytes' (2 file(s))" in msg
    assert f"artforge data check {tmp_path.resolve()}" in msg


@pytest.mark.parametrize("field, value, words", [
    ("resolution", 48, "48"), ("resolution", 2048, "power of two"), ("resolution", 8, "16 to 1024"),
    ("crop", "stretch", "data.crop"), ("background", "white", "#ffffff"), ("max_pixels", 0, "max_pixels"),
])
def test_config_errors(field, value, words):
    cfg = DataConfig(**{field: value})
    with pytest.raises(DataError, match=words):
        check_config(cfg)
    for r in (16, 32, 64, 128, 256, 512, 1024):
        check_config(DataConfig(resolution=r))
