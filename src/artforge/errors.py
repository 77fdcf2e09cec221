"""Errors a user can cause and fix; the CLI prints them as one line, with no traceback."""


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
