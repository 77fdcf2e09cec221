"""Planning a training job: what it trains on and with which settings, all checked before it is queued.

A job trains one of the model families (gan, music, style). The settings it may change are the fields of
that family's experiment config tagged `studio` (artforge.config.setting), with the type and range the tag
gives; they come from the job's JSON `params` and are checked strictly (true is not 1, "yes" is not true,
16.0 is not an integer, NaN and infinities are refused), so a job that would fail at its first step
(`lr_g: 1e300`) is a one-line 422 instead. Then the family's own check runs, the one its trainer runs, so
the studio refuses in the trainer's words. Training data is an upload of the user's own, the built-in set,
or (owners only) a folder they put in the data dir, never one of the studio's own folders.

>>> [d.range for d in studio_settings("gan") if d.key == "gan.lr_g"]
[(0, 1)]
"""

from __future__ import annotations

import math
import re

from .. import config as C
from ..errors import UserError, quoted
from .models import ModelLibrary, NotFound, PathRefused, inside
from .settings import StudioSettings
from .store import Store

UPLOAD_ID = re.compile(r"u[0-9a-f]{16}")
_KIND_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a text"}
_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str"}


class JobForbidden(UserError):
    """The user's role does not allow what the job asks (HTTP 403)."""


def _families() -> dict:
    from ..training.tasks import families

    return families()


def family_experiment(family) -> type:
    """The experiment dataclass of a family the studio trains; a UserError naming them for any other."""
    fams = _families()
    if not isinstance(family, str) or family not in fams:
        raise UserError(f"family: {quoted(family)} is not a model family; choose one of {', '.join(fams)}")
    return fams[family].experiment


def studio_settings(family: str) -> list[C.Declared]:
    """The settings a studio job of `family` may change: its config fields tagged `studio`. Paths and devices
    are the studio's: data.path comes from the job's `data`, train.init_from names a studio model."""
    return [d for d in C.declared(family_experiment(family)) if d.tag.studio]


def settings_json(family: str) -> list[dict]:
    """The studio's settings of `family` as GET /api/train/settings shows them (the form is built from it)."""
    out = []
    for d in studio_settings(family):
        lo, hi = d.range or (None, None)
        out.append({"key": d.key, "type": _TYPE_NAMES[d.type], "default": d.default, "min": lo, "max": hi,
                    "help": d.tag.help})
    return out


def setting_text(d: C.Declared, value) -> str:
    """The command-line text of one setting's JSON value, checked strictly (type, finiteness, range)."""
    kind, key = d.type, d.key
    ok = {bool: isinstance(value, bool), int: isinstance(value, int) and not isinstance(value, bool),
          float: isinstance(value, (int, float)) and not isinstance(value, bool), str: isinstance(value, str)}[kind]
    if not ok:
        raise UserError(f"params: {key} must be {_KIND_WORDS[kind]}, got {quoted(value)}")
    if kind is bool:
        return "true" if value else "false"
    if kind is str:
        if len(value) > 200 or "\x00" in value or "\n" in value:
            raise UserError(f"params: {key} must be a short text on one line")
        return value
    if not math.isfinite(value):
        raise UserError(f"params: {key} must be a finite number, got {quoted(value)}")
    lo, hi = d.range
    if not lo <= value <= hi:
        raise UserError(f"params: {key}={value!r} is out of range [{lo!r}, {hi!r}]")
    return repr(value)


def train_overrides(family: str, params: dict, steps: int, library: ModelLibrary) -> list[str]:
    """`section.key=value` strings from a job's params. A key may be dotted or, where that is unambiguous,
    bare (`resolution`, `batch_size`, `preset`). Unknown or forbidden keys are UserErrors naming the valid."""
    allowed = {d.key: d for d in studio_settings(family)}
    out: dict[str, str] = {}
    for key, value in params.items():
        full = key if key in allowed else None
        if full is None:
            matches = [k for k in allowed if k.rsplit(".", 1)[1] == key]
            if len(matches) != 1:
                raise UserError(f"params: {quoted(key)} is not a setting a studio job may change; use one of "
                                f"{', '.join(allowed)}")
            full = matches[0]
        text = setting_text(allowed[full], value)
        if full == "train.init_from":
            text = str(library.folder(text))          # a studio model name; PathRefused/NotFound otherwise
        out[full] = text
    # Defaults that suit watching a run in the studio: samples and log points through the whole run.
    out.setdefault("train.sample_every", str(max(1, min(250, steps // 10))))
    out.setdefault("train.log_every", str(max(1, min(10, steps // 100))))
    return [f"{k}={v}" for k, v in out.items()]


def check_train_config(family: str, data_path: str, steps: int, overrides: list[str]) -> None:
    """Refuse now (one line, 422) what the trainer would refuse in a minute: the family's own check, the
    one its training runs (artforge.training.tasks.check), in the same words."""
    from ..training.tasks import check

    exp = C.apply_overrides(family_experiment(family)(),
                            [f"data.path={data_path}", f"train.steps={steps}", *overrides])
    check(family, exp)


def plan_train(family: str, settings: StudioSettings, store: Store, library: ModelLibrary, data: str,
               params: dict, steps: int, user_id: int | None, folders: bool) -> tuple[str, list[str]]:
    """(the data path `artforge train FAMILY` takes, its key=value settings) for a job, every part checked
    (see resolve_data, train_overrides, check_train_config). 'builtin' is the family's built-in data."""
    family_experiment(family)
    data_path = resolve_data(settings, store, data, user_id, folders)
    if data_path == "builtin":
        data_path = family_experiment(family)().data.path
    overrides = train_overrides(family, params, steps, library)
    check_train_config(family, data_path, steps, overrides)
    return data_path, overrides


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
        raise PathRefused(f"data: {quoted(data)} is the studio's own folder; give a folder of images you put in "
                          "the data dir, or upload a zip")
    if not folder.is_dir():
        raise NotFound(f"data: no folder {quoted(data)} in the studio's data dir")
    return str(folder)
