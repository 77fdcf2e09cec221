"""Errors a user can cause and fix; the CLI prints them as one line, with no traceback."""

from __future__ import annotations

import json
from pathlib import Path


class UserError(Exception):
    """Something the user asked for cannot be done; the message says what and what to do."""

    exit_code = 2


class DataError(UserError):
    """The dataset cannot be used (missing folder, no readable images, ...)."""


class ConfigError(UserError):
    """A config file or a key=value override is wrong."""


class RunError(UserError):
    """A run directory is missing, not a run, or conflicts with what was asked."""


class RecipeError(UserError):
    """A file carries no recipe, or its recipe cannot be replayed."""


def not_a_file(path: str | Path, missing: str, give: str) -> str:
    """The message for a path that should be a file: a folder is named as one, never as 'not found'.

    >>> not_a_file("/", "config file not found", "a config file (.toml)")
    '/ is a folder; give a config file (.toml)'
    """
    return f"{path} is a folder; give {give}" if Path(path).is_dir() else f"{missing}: {path}"


def quoted(value, limit: int = 40, bare: bool = False) -> str:
    """A user's value as a message quotes it back: text in quotes, cut after `limit` characters (saying how
    long it was); other JSON values as JSON writes them. `bare`: text without the quotes (a field's name).

    >>> quoted("oil"), quoted(True), quoted(16.0), quoted("x" * 50, limit=3), quoted("a.b", bare=True)
    ("'oil'", 'true', '16.0', "'xxx'... (50 characters)", 'a.b')
    """
    if not isinstance(value, str):
        return json.dumps(value)
    cut = value[:limit]
    text = cut if bare else repr(cut)
    return text if len(value) <= limit else f"{text}... ({len(value)} characters)"
