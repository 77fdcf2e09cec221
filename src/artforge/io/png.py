"""PNG text chunks read straight from the file: no pixel is decoded, so no picture is too large to ask."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


class TextTooLarge(ValueError):
    """A PNG text chunk longer than the reader's limit (stored or once inflated)."""


def is_png(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == PNG_SIGNATURE


def read_png_text(path: str | Path, key: str, max_bytes: int) -> str | None:
    """The text chunk `key` (tEXt, zTXt or iTXt) of a PNG, or None; the pixels are never decoded.

    Pillow refuses to open a picture over its pixel limit, and a compressed text over 1 MB, even to read
    its text; this walks the chunks instead and inflates at most `max_bytes` (TextTooLarge past that).
    """
    want = key.encode("latin-1")
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            raise ValueError(f"{path} is not a PNG")
        while len(head := f.read(8)) == 8:
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND":
                return None
            if kind not in TEXT_CHUNKS or not _chunk_key_is(f, want, length):
                f.seek(length + 4, 1)                       # the data and the CRC
                continue
            if length > max_bytes + len(want) + 5:
                raise TextTooLarge(f"{key} is over {max_bytes} bytes")
            return _text_body(kind, f.read(length)[len(want) + 1:], max_bytes)
    return None


def _chunk_key_is(f, want: bytes, length: int) -> bool:
    """Whether the chunk whose data starts here is named `want`; the file position is left unchanged."""
    start = f.tell()
    head = f.read(min(length, len(want) + 1))
    f.seek(start)
    return head == want + b"\0"


def _text_body(kind: bytes, rest: bytes, max_bytes: int) -> str:
    """A text chunk's value after `key\0`: tEXt latin-1, zTXt deflated latin-1, iTXt UTF-8 (maybe deflated)."""
    if kind == b"tEXt":
        return rest.decode("latin-1")
    if kind == b"zTXt":
        return _inflate(rest[1:], max_bytes).decode("latin-1")
    compressed, rest = rest[:1] == b"\1", rest[2:]
    rest = rest.split(b"\0", 2)[-1]                         # skip the language tag and the translated key
    return (_inflate(rest, max_bytes) if compressed else rest).decode("utf-8", "replace")


def _inflate(data: bytes, max_bytes: int) -> bytes:
    try:
        out = zlib.decompressobj().decompress(data, max_bytes + 1)
    except zlib.error as e:
        raise ValueError(f"damaged compressed text ({e})") from None
    if len(out) > max_bytes:
        raise TextTooLarge(f"inflates to over {max_bytes} bytes")
    return out
