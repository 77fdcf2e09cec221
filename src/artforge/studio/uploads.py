"""Zips of training images: checked, then unpacked to DATA_DIR/uploads/ID/ (images only, flat).

Every entry is checked before anything is written: no absolute paths, no '..', no symlinks, no
encryption, at most `max_zip_entries` entries, a declared total of at most `max_unzipped_bytes`, and no
entry that inflates more than `max_zip_ratio` times (what zip bombs do). While unpacking, each entry is
counted again, so a header that lies about its size is caught too. Only image files are kept, each
decoded once under the pixel limit (every other file is reported with the reason it was skipped: hidden
file, not an image file, or what decoding found); they are written under new names (`00012-cat.png`), so nothing in
the archive chooses a path. The folder appears under its final name only when complete.

>>> # upload_id, kept, skipped = unpack_zip(Path("art.zip"), settings)
"""

from __future__ import annotations

import re
import secrets
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..data.images import BadImage, inspect_image
from ..errors import UserError
from .settings import StudioSettings

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
RATIO_MIN_BYTES = 1 << 20        # smaller entries may compress as well as they like: they cannot hurt


class UploadTooLarge(UserError):
    """HTTP 413."""


def new_upload_id() -> str:
    return "u" + secrets.token_hex(8)


def _check_entry(info: zipfile.ZipInfo, settings: StudioSettings) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not name or "\x00" in name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) \
            or ".." in parts:
        raise UserError(f"file: the zip entry {name[:200]!r} has a path that leads outside its folder; refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UserError(f"file: the zip entry {name[:200]!r} is a symbolic link; zips with links are refused")
    if info.flag_bits & 0x1:
        raise UserError(f"file: the zip entry {name[:200]!r} is encrypted; upload an unencrypted zip")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_MIN_BYTES and ratio > settings.max_zip_ratio:
        raise UploadTooLarge(f"file: the zip entry {name[:200]!r} would inflate {ratio:.0f} times (limit "
                             f"{settings.max_zip_ratio:g}); refused as a possible zip bomb")


def _skip_reason(info: zipfile.ZipInfo) -> str | None:
    """Why an entry is not unpacked ('hidden file': a dot file, or inside a dot folder or macOS's __MACOSX),
    or None for an image file to keep."""
    parts = PurePosixPath(info.filename.replace("\\", "/")).parts
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return "hidden file"
    if not parts or not parts[-1].lower().endswith(IMAGE_SUFFIXES):
        return "not an image file"
    return None


def _safe_name(i: int, filename: str) -> str:
    base = PurePosixPath(filename.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:60].strip("_") or "image"
    return f"{i:05d}-{stem}.{suffix.lower()}"


def unpack_zip(src: Path, settings: StudioSettings) -> tuple[str, int, list[dict]]:
    """(upload id, images kept, skipped files with reasons); UserError (or UploadTooLarge) if refused."""
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError("file: not a zip archive; zip your folder of images and upload the .zip") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > settings.max_zip_entries:
            raise UserError(f"file: the zip has {len(infos)} entries (limit {settings.max_zip_entries})")
        for info in infos:
            _check_entry(info, settings)
        declared = sum(i.file_size for i in infos)
        if declared > settings.max_unzipped_bytes:
            raise UploadTooLarge(f"file: the zip would unpack to {declared} bytes (limit "
                                 f"{settings.max_unzipped_bytes}); refused as a possible zip bomb")
        files = [i for i in infos if not i.is_dir()]
        wanted = [i for i in files if _skip_reason(i) is None]
        skipped = [{"path": i.filename[:200], "reason": _skip_reason(i)} for i in files if _skip_reason(i)]
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=settings.tmp_dir, prefix="upload-"))
        try:
            kept = _extract(zf, wanted, tmp, settings, skipped)
            if kept == 0:
                raise UserError("file: the zip holds no readable images (PNG, JPEG, WebP, BMP, GIF or TIFF)")
            upload_id = new_upload_id()
            tmp.rename(settings.uploads_dir / upload_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return upload_id, kept, skipped


def _extract(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], dest: Path, settings: StudioSettings,
             skipped: list[dict]) -> int:
    total, kept = 0, 0
    for i, info in enumerate(infos):
        out = dest / _safe_name(i, info.filename)
        written = 0
        try:
            with zf.open(info) as r, open(out, "wb") as w:
                while chunk := r.read(1 << 16):
                    written += len(chunk)
                    total += len(chunk)
                    if written > info.file_size or total > settings.max_unzipped_bytes:
                        raise UploadTooLarge(f"file: the zip entry {info.filename[:200]!r} holds more than its "
                                             "header says; refused as a possible zip bomb")
                    w.write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
            raise UserError(f"file: the zip entry {info.filename[:200]!r} is damaged ({type(e).__name__}); "
                            "make the zip again") from None
        try:
            inspect_image(out, settings.max_pixels)
        except BadImage as e:
            out.unlink()
            skipped.append({"path": info.filename[:200], "reason": str(e)[:200]})
            continue
        kept += 1
    return kept
