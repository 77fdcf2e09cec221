"""Model families the loop can train, by name."""

from __future__ import annotations

from ..run import Family


def families() -> dict[str, Family]:
    """Imported on call, so `import artforge.training` stays light."""
    from . import gan, music, style

    return {"gan": Family("gan", gan.GANExperiment, gan.train),
            "music": Family("music", music.MusicExperiment, music.train),
            "style": Family("style", style.StyleExperiment, style.train)}
