"""Model families the loop can train, by name: a view of the registry (artforge.families), whose entries
name each family's experiment dataclass, training function and check."""

from __future__ import annotations

from ... import families as registry
from ..run import Family


def families() -> dict[str, Family]:
    """Every registered family, its experiment and training function imported now (on call, so
    `import artforge.training` stays light)."""
    return {f.name: Family(f.name, registry.resolve(f.experiment), registry.resolve(f.train))
            for f in registry.all_families()}


def check(name: str, exp) -> None:
    """Refuse, in the trainer's own words, a setting family `name` would refuse when its run starts (the
    data aside): the studio calls it before queueing a job. Each family registers a `check(exp)`."""
    registry.resolve(registry.family(name).check)(exp)
