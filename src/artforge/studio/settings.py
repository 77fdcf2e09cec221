"""Everything the studio needs to know, passed in: `create_app(StudioSettings(data_dir=...))`.

>>> StudioSettings(data_dir="studio-data").db_path.name
'studio.sqlite3'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class StudioSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 7860
    device: str = "cpu"
    # Generation requests arriving within `batch_window_ms` share one forward pass (up to max_batch_images).
    batching: bool = True
    batch_window_ms: float = 5.0
    max_batch_images: int = 64
    max_images_per_request: int = 64
    max_upload_bytes: int = 20 * 2**20
    max_pixels: int = 50_000_000          # uploads larger than this are refused before decoding (bombs)
    session_days: float = 14.0
    signin_token_minutes: float = 60.0
    secure_cookies: bool = False          # set behind an HTTPS proxy
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile). Tests lower them.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # Zips of training images (POST /api/uploads): checked for traversal, symlinks and bombs.
    max_zip_bytes: int = 200 * 2**20
    max_unzipped_bytes: int = 2 * 2**30   # declared total of all entries
    max_zip_ratio: float = 200.0          # uncompressed / compressed, per entry (zip bombs reach 1000s)
    max_zip_entries: int = 20_000
    # Training jobs: one at a time, each in its own process (`python -m artforge train ...`).
    train_threads: int = 0                # torch threads of a training process; 0: all cores but one
    job_stop_timeout_s: float = 120.0     # after SIGTERM (pause/cancel/shutdown), SIGKILL after this long
    job_events_interval_s: float = 1.0    # how often GET /api/jobs/ID/events looks for progress
    # Password checks within login_window_s (sign-ins, and the old password of a change): past this many for
    # one username, or from one client address, each further one waits its turn (ratelimit.py), turns spaced
    # login_delay_s, doubling up to login_max_delay_s; one whose turn is over login_max_wait_s away gets 429.
    login_max_failures: int = 5
    login_ip_max_failures: int = 20
    login_window_s: float = 300.0
    login_delay_s: float = 1.0
    login_max_delay_s: float = 30.0
    login_max_wait_s: float = 60.0
    # The copy check for `no_copies` (model -> callable on images); None: CopyGuard.for_model.
    copy_check_factory: Callable[[Any], Callable] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().resolve())

    @property
    def db_path(self) -> Path:
        return self.data_dir / "studio.sqlite3"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"          # one log file per job

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def is_local(self) -> bool:
        return self.host in LOCAL_HOSTS
