"""What a pipeline declares, once: its inputs (files, artworks, a model) and its settings (`Param`s).

This module imports neither torch nor numpy, so the CLI builds every verb's parser, and the registry lists
every pipeline's parameters, without loading them. The CLI, the Python API and the studio are all built
from one `Spec`:

- settings (`Param`): typed, with a default, a range and help; `Spec.resolve` checks them, the CLI makes
  one `--option` per setting, the studio one body field per setting.
- inputs (`Input`): what the pipeline works on, never defaulted and never in `resolve`: the CLI takes them
  as positional arguments (a model, files), the studio as typed body fields (a model's name, artwork ids in
  place of files, since the studio keeps every file as an artwork).

    >>> spec = Spec("demo", "a demo", inputs=(Input("a", "file", "the first melody"),),
    ...             params=(Param("n", "int", 4, "how many", 1, 8),))
    >>> spec.resolve(n="3")
    {'n': 3}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import UserError

INPUT_KINDS = ("file", "files", "artwork", "artworks", "model")


@dataclass(frozen=True)
class Param:
    """A setting: a value with a type, a default and a range, the same on every face."""
    name: str
    kind: str                       # int | float | bool | str | ints (comma-separated integers)
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    short: str | None = None        # e.g. "-n" on the command line

    def check(self, value: Any) -> Any:
        """The value converted to this parameter's type and checked against its range."""
        try:
            v = self._convert(value)
        except (TypeError, ValueError, OverflowError):
            raise UserError(f"{self.name}: expected {self.kind}, got {value!r}") from None
        if self.kind == "float" and not math.isfinite(v):   # NaN passes every range check and breaks JSON
            raise UserError(f"{self.name}: expected a finite number, got {value}")
        items = v if self.kind == "ints" else [v]
        if self.kind == "ints" and not items:
            raise UserError(f"{self.name}: give at least one integer, e.g. 1,2,3")
        for x in items:
            if self.min is not None and x < self.min or self.max is not None and x > self.max:
                raise UserError(f"{self.name}: {x} is out of range [{self.min}, {self.max}]")
            if self.choices is not None and x not in self.choices:
                raise UserError(f"{self.name}: {x!r} is not one of {', '.join(map(str, self.choices))}")
        return v

    def _convert(self, value: Any) -> Any:
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer() or isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if self.kind == "float":
            return float(value)
        if self.kind == "bool":
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        if self.kind == "ints":
            if isinstance(value, str):
                return [int(s) for s in value.split(",") if s.strip()]
            return [int(x) for x in value]
        return str(value)

    def range_text(self) -> str:
        """' [0..2147483647]' (integers as integers), '' for a parameter without both bounds."""
        if self.min is None or self.max is None:
            return ""
        fmt = (lambda v: str(int(v))) if self.kind in ("int", "ints") else (lambda v: f"{v:g}")
        return f" [{fmt(self.min)}..{fmt(self.max)}]"

    def schema(self) -> dict:
        """A JSON description of this parameter, for forms and API docs."""
        return {k: v for k, v in {"name": self.name, "type": self.kind, "default": self.default,
                                  "help": self.help, "min": self.min, "max": self.max,
                                  "choices": list(self.choices) if self.choices else None}.items()
                if v is not None}


@dataclass(frozen=True)
class Input:
    """What a pipeline works on: a model, a file or several (`min`..`max` of them), an artwork or several.

    On the command line a model or file is a positional argument (`metavar`); in the studio a model is its
    name and a file is the id of the artwork that holds it. `help` names the thing ("the first melody").
    """
    name: str
    kind: str                       # one of INPUT_KINDS
    help: str
    metavar: str | None = None
    min: int = 1                    # files / artworks: how many at least
    max: int | None = None          # ... and at most (None: no limit)

    def __post_init__(self):
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"input {self.name}: kind {self.kind!r} is not one of {', '.join(INPUT_KINDS)}")

    @property
    def many(self) -> bool:
        return self.kind in ("files", "artworks")

    def check_count(self, values: list) -> list:
        """`values` when there are `min`..`max` of them; a UserError naming this input otherwise."""
        if len(values) < self.min or self.max is not None and len(values) > self.max:
            most = f" to {self.max}" if self.max is not None else " or more"
            raise UserError(f"{self.name}: give {self.min}{most} ({self.help}), got {len(values)}")
        return values

    def schema(self) -> dict:
        return {k: v for k, v in {"name": self.name, "kind": self.kind, "help": self.help,
                                  "min": self.min if self.many else None,
                                  "max": self.max if self.many else None}.items() if v is not None}


@dataclass(frozen=True)
class Spec:
    """A pipeline's declaration: its name, one line of help, its inputs and its settings."""
    name: str
    help: str
    params: tuple[Param, ...] = ()
    inputs: tuple[Input, ...] = ()

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def resolve(self, **kwargs: Any) -> dict:
        """The settings with defaults filled in, every value checked; an unknown name is an error naming the
        valid ones (inputs are not settings: they are given to the pipeline beside these)."""
        known = {p.name: p for p in self.params}
        for k in kwargs:
            if k not in known:
                raise UserError(f"{self.name}: unknown parameter '{k}'; known: {', '.join(known)}")
        return {name: p.check(kwargs.get(name, p.default)) for name, p in known.items()}

    def replay_params(self, recipe: dict) -> dict:
        """The declared settings a recipe recorded, checked, defaults filled in; what else its params hold
        (indexes, tokens, a copy check's verdict) is not a setting and is skipped."""
        known = {p.name for p in self.params}
        return self.resolve(**{k: v for k, v in recipe["params"].items() if k in known})

    def schema(self) -> dict:
        return {"name": self.name, "help": self.help, "inputs": [i.schema() for i in self.inputs],
                "params": [p.schema() for p in self.params]}
