"""Planning a training job: what it trains on and with which settings, all checked before it is queued.

Settings come from a job's JSON `params` and are checked strictly against the type each has in the GAN
experiment config (true is not 1, "yes" is not true, 16.0 is not an integer, NaN and infinities are
refused) and against a range the studio allows, so a job that would fail at its first step (`lr_g: 1e300`)
is a one-line 422 instead. Training data is an upload of the user's own, the built-in set, or (owners only)
a folder they put in the data dir, never one of the studio's own folders.

>>> _LIMITS["gan.lr_g"]
(0, 1)
"""

from __future__ import annotations

import json
import math
import re
import typing

from ..errors import UserError
from .models import ModelLibrary, NotFound, PathRefused, inside
from .settings import StudioSettings
from .store import Store

UPLOAD_ID = re.compile(r"u[0-9a-f]{16}")
# Config keys a studio job may set (dotted, as on the command line). Paths and devices are the studio's:
# data.path comes from `data`, train.init_from names a studio model, the device is the studio's.
TRAIN_KEYS = (
    "data.resolution", "data.crop", "data.background", "data.hflip",
    "model.arch", "model.preset", "model.z_dim", "model.g_channels", "model.d_channels", "model.max_channels",
    "gan.loss", "gan.augment", "gan.ada", "gan.aug_p", "gan.ada_target", "gan.ada_kimg", "gan.r1_gamma",
    "gan.r1_every", "gan.lr_g", "gan.lr_d", "gan.beta1", "gan.beta2",
    "train.batch_size", "train.accumulate", "train.seed", "train.precision", "train.grad_clip", "train.ema_kimg",
    "train.ema_rampup", "train.log_every", "train.sample_every", "train.checkpoint_minutes",
    "train.checkpoint_every", "train.keep_checkpoints", "train.budget_minutes", "train.init_from",
    "eval.kid_every", "eval.kid_samples", "eval.keep_best",
)
# The ranges a studio job may use (inclusive); other integers: 0 to _INT_MAX. Adam needs beta < 1, and a
# rate above 1 only makes the first step overflow.
_INT_MAX = 10**9
_LIMITS: dict[str, tuple[float, float]] = {
    "gan.lr_g": (0, 1), "gan.lr_d": (0, 1), "gan.beta1": (0, 0.9999), "gan.beta2": (0, 0.9999),
    "gan.aug_p": (0, 1), "gan.ada_target": (0, 1), "gan.ada_kimg": (0.001, 1e6), "gan.r1_gamma": (0, 1e6),
    "train.grad_clip": (0, 1e6), "train.ema_kimg": (0, 1e6), "train.ema_rampup": (0, 1),
    "train.checkpoint_minutes": (0, 1e6), "train.budget_minutes": (0, 1e7),
    "train.batch_size": (1, 4096), "train.accumulate": (1, 4096), "train.seed": (0, 2**63 - 1),
}
_KIND_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a text"}


class JobForbidden(UserError):
    """The user's role does not allow what the job asks (HTTP 403)."""


def _quoted(value) -> str:
    """A request's value as a message shows it: JSON words for JSON values, at most 40 characters of text."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."
    return json.dumps(value)


def setting_type(key: str) -> type:
    """The type a dotted setting has in the GAN experiment config."""
    from ..training.tasks.gan import GANExperiment

    section, name = key.split(".")
    return typing.get_type_hints(typing.get_type_hints(GANExperiment)[section])[name]


def setting_text(key: str, value) -> str:
    """The command-line text of one setting's JSON value, checked strictly (type, finiteness, range)."""
    kind = setting_type(key)
    ok = {bool: isinstance(value, bool), int: isinstance(value, int) and not isinstance(value, bool),
          float: isinstance(value, (int, float)) and not isinstance(value, bool), str: isinstance(value, str)}[kind]
    if not ok:
        raise UserError(f"params: {key} must be {_KIND_WORDS[kind]}, got {_quoted(value)}")
    if kind is bool:
        return "true" if value else "false"
    if kind is str:
        if len(value) > 200 or "\x00" in value or "\n" in value:
            raise UserError(f"params: {key} must be a short text on one line")
        return value
    if not math.isfinite(value):
        raise UserError(f"params: {key} must be a finite number, got {_quoted(value)}")
    lo, hi = _LIMITS.get(key, (0, _INT_MAX if kind is int else 1e6))
    if not lo <= value <= hi:
        raise UserError(f"params: {key}={value!r} is out of range [{lo!r}, {hi!r}]")
    return repr(value)


def train_overrides(params: dict, steps: int, library: ModelLibrary) -> list[str]:
    """`section.key=value` strings from a job's params. A key may be dotted or, where that is unambiguous,
    bare (`resolution`, `batch_size`, `preset`). Unknown or forbidden keys are UserErrors naming the valid."""
    out: dict[str, str] = {}
    for key, value in params.items():
        full = key if key in TRAIN_KEYS else None
        if full is None:
            matches = [k for k in TRAIN_KEYS if k.rsplit(".", 1)[1] == key]
            if len(matches) != 1:
                raise UserError(f"params: {_quoted(key)} is not a setting a studio job may change; use one of "
                                f"{', '.join(TRAIN_KEYS)}")
            full = matches[0]
        text = setting_text(full, value)
        if full == "train.init_from":
            text = str(library.folder(text))          # a studio model name; PathRefused/NotFound otherwise
        out[full] = text
    # Defaults that suit watching a run in the studio: samples and log points through the whole run.
    out.setdefault("train.sample_every", str(max(1, min(250, steps // 10))))
    out.setdefault("train.log_every", str(max(1, min(10, steps // 100))))
    return [f"{k}={v}" for k, v in out.items()]


def check_train_config(data_path: str, steps: int, overrides: list[str]) -> None:
    """Refuse now (one line, 422) what the trainer would refuse in a minute."""
    from .. import config as C
    from ..data.check import check_config
    from ..models import make_config
    from ..training.tasks.gan import GANExperiment, network_config, resolved_loss, resolved_lr

    exp = C.apply_overrides(GANExperiment(), [f"data.path={data_path}", f"train.steps={steps}", *overrides])
    check_config(exp.data)
    make_config(exp.model.arch, network_config(exp))
    resolved_loss(exp)
    resolved_lr(exp)
    t = exp.train
    if t.batch_size < 1 or t.accumulate < 1 or t.batch_size % t.accumulate:
        raise UserError(f"params: train.batch_size={t.batch_size} must be a positive multiple of "
                        f"train.accumulate={t.accumulate}")


def resolve_data(settings: StudioSettings, store: Store, data: str, user_id: int | None, folders: bool) -> str:
    """What `artforge train` takes for a job's `data`: 'builtin'; an upload id, which must be `user_id`'s own
    unless `folders` (an owner's job: any upload); or, only when `folders`, a folder inside the data dir that
    is not one of the studio's own (its database, objects, runs, uploads, logs, caches)."""
    if data == "builtin":
        return "builtin"
    if UPLOAD_ID.fullmatch(data):
        folder = settings.uploads_dir / data
        with store.read() as c:
            row = c.execute("SELECT owner FROM uploads WHERE id = ?", (data,)).fetchone()
        if not folder.is_dir() or not folders and (row is None or row["owner"] != user_id):
            raise NotFound(f"data: no upload {data!r}" + ("" if folders else " of yours"))
        return str(folder)
    if not folders:
        raise JobForbidden("data: an editor trains on one of their own uploads (POST /api/uploads) or 'builtin'; "
                           "folders of the data dir are for owners")
    folder = inside(settings.data_dir, data)
    own = (settings.objects_dir, settings.runs_dir, settings.uploads_dir, settings.jobs_dir, settings.tmp_dir,
           settings.cache_dir)
    if folder == settings.data_dir or any(folder.is_relative_to(d) for d in own):
        raise PathRefused(f"data: {_quoted(data)} is the studio's own folder; give a folder of images you put in "
                          "the data dir, or upload a zip")
    if not folder.is_dir():
        raise NotFound(f"data: no folder {_quoted(data)} in the studio's data dir")
    return str(folder)
