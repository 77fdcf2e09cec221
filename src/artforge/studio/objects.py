"""Content-addressed image files: DATA_DIR/objects/ab/cdef....png, named by the SHA-256 of their bytes.

Files are written atomically and never change once written, so the same picture is stored once however
many artworks use it, and a backup is a plain copy of the data dir.

>>> import tempfile, pathlib
>>> objs = ObjectStore(pathlib.Path(tempfile.mkdtemp()))
>>> sha = objs.put(b"not really a png")
>>> objs.path(sha).read_bytes()
b'not really a png'
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..io.atomic import atomic_write_bytes

_SHA = re.compile(r"[0-9a-f]{64}")
# An artwork's other files (store.py's `media` table), by kind: file suffix and media type.
MEDIA_KINDS = {"midi": (".mid", "audio/midi"), "wav": (".wav", "audio/wav")}


class ObjectStore:
    def __init__(self, root: Path, suffix: str = ".png"):
        self.root = Path(root)
        self.suffix = suffix

    def path(self, sha256: str) -> Path:
        """Where the object lives; ValueError for anything that is not a lowercase hex SHA-256."""
        if not isinstance(sha256, str) or not _SHA.fullmatch(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256[2:]}{self.suffix}"

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha)
        if not dest.is_file():
            atomic_write_bytes(dest, data)
        return sha

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


def media_store(root: Path, kind: str) -> ObjectStore:
    """The object store of one kind of media file ('midi', 'wav'), beside the pictures in the same folders."""
    return ObjectStore(root, MEDIA_KINDS[kind][0])
