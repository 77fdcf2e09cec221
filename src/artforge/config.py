"""Typed dataclass configs: build them from dicts and TOML files, apply `section.key=value` overrides.

Unknown keys are errors that name the closest valid key, so a typo never silently does nothing.

>>> from dataclasses import dataclass, field
>>> @dataclass
... class Train:
...     lr: float = 1e-3
...     steps: int = 100
>>> @dataclass
... class Exp:
...     train: Train = field(default_factory=Train)
>>> cfg = apply_overrides(Exp(), ["train.lr=0.01"])
>>> cfg.train.lr
0.01

A setting is declared once, on its dataclass field, with `setting(...)`: its help, whether a studio job may
set it, whether a resumed run may change it, its range, its command-line flag. The CLI flags, the studio's
form and the keys `--resume` accepts are all read from these tags (`declared`).

>>> @dataclass
... class Loss:
...     lr: float = setting(1e-3, help="Adam's rate", studio=True, min=0, max=1)
>>> [(d.key, d.type, d.default, d.tag.max) for d in declared(Loss)]
[('lr', <class 'float'>, 0.001, 1)]
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import sys
import typing
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from .errors import ConfigError, not_a_file

T = TypeVar("T")
SETTING = "artforge.setting"     # the key of a field's tag in its metadata


@dataclasses.dataclass(frozen=True)
class Setting:
    """What a config field is to the faces of artforge (see `setting`)."""
    help: str = ""
    studio: bool = False             # a studio training job may set it (POST /api/jobs params)
    resume: bool = False             # `train --resume` may change it (it steers, it does not change the result)
    min: float | None = None         # inclusive range, for the studio's form and its check
    max: float | None = None
    flag: str | None = None          # its own command-line option of `artforge train`, e.g. "--steps"
    metavar: str | None = None


# The range a studio-settable number has when its tag names none.
DEFAULT_RANGE = {int: (0, 10**9), float: (0, 1e6)}


def setting(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
            **tags: Any) -> Any:
    """A dataclass field carrying its `Setting` tags: `lr: float = setting(1e-3, studio=True, max=1)`."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={SETTING: Setting(**tags)})


@dataclasses.dataclass(frozen=True)
class Declared:
    """One field of a config as its tag declares it: dotted key, type, default (the config's own), tag."""
    key: str
    type: Any
    default: Any
    tag: Setting

    @property
    def range(self) -> tuple[float, float] | None:
        """(lo, hi) of a number: the tag's, else DEFAULT_RANGE; None for other types."""
        if self.type not in DEFAULT_RANGE:
            return None
        lo, hi = DEFAULT_RANGE[self.type]
        return (lo if self.tag.min is None else self.tag.min, hi if self.tag.max is None else self.tag.max)


def declared(cls_or_cfg: Any, prefix: str = "") -> list[Declared]:
    """Every leaf field of a (nested) config with its tags (untagged fields get an empty `Setting`);
    defaults are those of `cls_or_cfg()` (an experiment's own, e.g. its train.steps)."""
    cfg = cls_or_cfg() if isinstance(cls_or_cfg, type) else cls_or_cfg
    hints = typing.get_type_hints(type(cfg))
    out = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            out += declared(value, f"{prefix}{f.name}.")
        else:
            out.append(Declared(f"{prefix}{f.name}", hints[f.name], value, f.metadata.get(SETTING, Setting())))
    return out


def to_dict(cfg: Any) -> dict:
    """A plain, JSON-ready dict of a (nested) dataclass config."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def all_keys(cls_or_cfg: Any, prefix: str = "") -> list[str]:
    """Every dotted key a config accepts, e.g. ['train.lr', 'train.steps', ...]."""
    cls = cls_or_cfg if isinstance(cls_or_cfg, type) else type(cls_or_cfg)
    hints = typing.get_type_hints(cls)
    keys = []
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            keys += all_keys(t, f"{prefix}{f.name}.")
        else:
            keys.append(f"{prefix}{f.name}")
    return keys


def _unknown_key(key: str, valid: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown config key '{key}'{where}{hint}")


def _unknown_section(name: str, sections: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(name, sections, n=1, cutoff=0.5)
    hint = (f"; did you mean [{close[0]}]?" if close else
            f"; sections: {', '.join(f'[{s}]' for s in sections)}" if sections else "; it takes no sections here")
    return ConfigError(f"unknown config section [{name}]{where}{hint}")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Turn a TOML/JSON value or a command-line string into the field's declared type."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        return _coerce(value, args[0], key)
    try:
        if tp is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
                return True
            if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if tp is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if tp is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if tp is str:
            if not isinstance(value, (str, int, float)):
                raise ValueError(value)
            return str(value)
        if origin in (tuple, list):
            (inner, *_) = typing.get_args(tp) or (Any,)
            if isinstance(value, str):
                value = [v for v in value.strip("()[] ").split(",") if v.strip()]
            items = [_coerce(v.strip() if isinstance(v, str) else v, inner, key) for v in value]
            return tuple(items) if origin is tuple else items
    except (TypeError, ValueError):
        name = getattr(tp, "__name__", str(tp))
        raise ConfigError(f"config key '{key}' must be of type {name}, got {value!r}") from None
    return value


def from_dict(cls: type[T], data: dict, prefix: str = "", where: str = "") -> T:
    """Build dataclass `cls` from a nested dict; unknown keys raise ConfigError naming the closest."""
    if not isinstance(data, dict):
        raise ConfigError(f"config section '{prefix.rstrip('.') or 'top'}'{where} must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for k in data:
        if k not in names:
            if isinstance(data[k], dict):        # a [section]: compared with the sections, not with every key
                raise _unknown_section(f"{prefix}{k}", [f"{prefix}{f.name}" for f in dataclasses.fields(cls)
                                                        if dataclasses.is_dataclass(hints[f.name])], where)
            valid = all_keys(cls, prefix)
            raise _unknown_key(f"{prefix}{k}", valid, where)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            kwargs[f.name] = from_dict(tp, data[f.name], f"{prefix}{f.name}.", where)
        else:
            kwargs[f.name] = _coerce(data[f.name], tp, f"{prefix}{f.name}")
    return cls(**kwargs)


def merge(cfg: T, data: dict, where: str = "") -> T:
    """A copy of `cfg` with the (nested) values of `data` laid over it."""
    base = to_dict(cfg)

    def deep(dst: dict, src: dict, prefix: str) -> None:
        for k, v in src.items():
            if isinstance(v, dict) and isinstance(dst.get(k), dict):
                deep(dst[k], v, f"{prefix}{k}.")
            else:
                dst[k] = v

    if not isinstance(data, dict):
        raise ConfigError(f"config{where} must be a table of sections")
    deep(base, data, "")
    return from_dict(type(cfg), base, where=where)


def load_toml(path: str | Path) -> dict:
    """Read a TOML file; a missing or malformed file is a ConfigError naming it."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(not_a_file(p, "config file not found", "a config file (.toml)"))
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {p} is not valid TOML: {e}") from None


def parse_override(text: str) -> tuple[str, str]:
    """'train.lr=0.01' or '--train.lr=0.01' -> ('train.lr', '0.01')."""
    body = text[2:] if text.startswith("--") else text
    if "=" not in body:
        raise ConfigError(f"override '{text}' must look like section.key=value")
    key, value = body.split("=", 1)
    return key.strip(), value


def overrides_to_dict(cfg: Any, overrides: list[str]) -> dict:
    """Nested dict of overrides, with each key checked against `cfg`'s fields."""
    valid = all_keys(cfg)
    out: dict = {}
    for text in overrides:
        key, value = parse_override(text)
        if key not in valid:
            raise _unknown_key(key, valid, "")
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def apply_overrides(cfg: T, overrides: list[str]) -> T:
    """A copy of `cfg` with `section.key=value` strings applied (types coerced, keys checked)."""
    return merge(cfg, overrides_to_dict(cfg, overrides))


def diff(a: Any, b: Any) -> dict[str, tuple[Any, Any]]:
    """Dotted keys whose values differ between two configs of the same type."""
    da, db = to_dict(a), to_dict(b)

    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    fa, fb = flat(da), flat(db)
    return {k: (fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)}
