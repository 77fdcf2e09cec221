"""POST /api/uploads: zips of training images, and every way a zip is refused (one-line 4xx each)."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest
from PIL import Image

from conftest import Studio, make_settings


def png(size=(24, 24), colour=(10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def post(client, data: bytes, name="art.zip"):
    return client.post("/api/uploads", files={"file": (name, data, "application/zip")})


def test_a_zip_of_images_is_unpacked_flat_with_images_only(studio, owner):
    data = make_zip([("art/a.png", png()), ("art/deeper/b.png", png(colour=(200, 0, 0))), ("art/notes.txt", b"hi"),
                     ("art/broken.png", b"not a png"), ("__MACOSX/art/._a.png", b"junk"), ("art/", b""),
                     ("c d (1).JPG", _jpeg())])
    r = post(owner, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["images"] == 3 and body["upload"].startswith("u")
    folder = studio.settings.uploads_dir / body["upload"]
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 3 and all(p.is_file() and not p.is_symlink() for p in folder.iterdir())
    assert any(n.endswith("-c_d_1.jpg") for n in names)
    reasons = {s["path"]: s["reason"] for s in body["skipped"]}
    assert reasons["art/notes.txt"] == "not an image file" and "art/broken.png" in reasons
    assert not list(studio.settings.tmp_dir.iterdir())          # nothing left half-unpacked


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(buf, format="JPEG")
    return buf.getvalue()


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


@pytest.mark.parametrize("entries, message", [
    ([("../evil.png", png())], "leads outside its folder"),
    ([("ok/../../evil.png", png())], "leads outside its folder"),
    ([("/etc/evil.png", png())], "leads outside its folder"),
    ([("C:\\evil.png", png())], "leads outside its folder"),
    ([("a.png", png()), _link("link.png", "/etc/passwd")], "symbolic link"),
    ([("notes.txt", b"no pictures here")], "holds no readable images"),
])
def test_unsafe_or_empty_zips_are_refused(studio, owner, entries, message):
    r = post(owner, make_zip(entries))
    assert r.status_code == 422 and message in r.json()["detail"], r.text
    assert "\n" not in r.json()["detail"]
    assert not studio.settings.uploads_dir.exists() or not list(studio.settings.uploads_dir.iterdir())


def test_not_a_zip_and_no_file(owner, viewer):
    r = post(owner, b"PK\x03\x04 but not really a zip")
    assert r.status_code == 422 and "not a zip archive" in r.json()["detail"]
    assert owner.post("/api/uploads").status_code == 422
    assert post(viewer, make_zip([("a.png", png())])).status_code == 403


def test_size_limits_and_zip_bombs(tmp_path):
    s = Studio(make_settings(tmp_path / "data", max_zip_bytes=60_000, max_unzipped_bytes=3 << 20,
                             max_pixels=100_000))
    try:
        owner = s.owner()
        r = post(owner, make_zip([("noise.bin", os.urandom(80_000))], zipfile.ZIP_STORED))
        assert r.status_code == 413 and "too large" in r.json()["detail"], r.text
        # one entry that inflates ~1000 times
        r = post(owner, make_zip([("bomb.png", b"\0" * (2 << 20))]))
        assert r.status_code == 413 and "zip bomb" in r.json()["detail"] and "inflate" in r.json()["detail"], r.text
        # many small entries that add up past the limit (each compresses modestly)
        chunk = os.urandom(1000) * 300
        r = post(owner, make_zip([(f"p{i}.png", chunk) for i in range(12)]))
        assert r.status_code == 413 and "would unpack to" in r.json()["detail"], r.text
        # a picture over the pixel limit is skipped, never decoded
        r = post(owner, make_zip([("huge.png", png((400, 400))), ("ok.png", png())]))
        assert r.status_code == 201 and r.json()["images"] == 1, r.text
        assert "pixel limit" in r.json()["skipped"][0]["reason"]
    finally:
        s.close()


def test_every_skipped_file_is_reported_with_its_reason(owner):
    data = make_zip([("art/a.png", png()), ("art/.hidden.png", png()), ("art/.thumbs/b.png", png()),
                     ("__MACOSX/art/._a.png", b"junk"), ("art/notes.txt", b"hi"), ("art/broken.png", b"not a png")])
    body = post(owner, data).json()
    assert body["images"] == 1 and body["skipped_count"] == 5
    assert {s["path"]: s["reason"] for s in body["skipped"]} == {
        "art/.hidden.png": "hidden file", "art/.thumbs/b.png": "hidden file", "__MACOSX/art/._a.png": "hidden file",
        "art/notes.txt": "not an image file", "art/broken.png": "not an image"}     # the decoder's verdict
