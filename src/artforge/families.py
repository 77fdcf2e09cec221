"""The model families artforge knows, each registered once: how `config.json` builds its network, which
experiment and training function make one, which pipelines create with it, which models ship with it.

The CLI (`artforge train FAMILY`), `from_pretrained`, the trainer, `PIPELINES`, replay and the studio's
`/api/pipelines` all read this table and keep no list of their own. Importing it imports nothing else of
artforge and no torch: every code reference is a lazy `"module:attr"` string, imported on first use (a test
may give the object itself). A new family is its own modules (model, task, pipelines) plus one
`register(Family(...))` below; docs/architecture.md, "Adding a model family", walks through it.

>>> family("music").pipeline_names()
('music.sample', 'music.interpolate', 'music.breed')
>>> pipeline_spec("explore").family
'gan'
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from importlib import import_module, resources
from pathlib import Path
from typing import Any, Iterator

from .errors import RunError

Ref = Any     # "package.module:attr", or the object itself


def resolve(ref: Ref) -> Any:
    """The object a `"module:attr"` reference names (imported now); anything else is returned as it is.

    >>> resolve("artforge.errors:RunError").__name__
    'RunError'
    """
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(import_module(module), attr)


@dataclass(frozen=True)
class Arch:
    """One network of a family, as `config.json` names it in `arch`: the class and the Config dataclass that
    its `model` section fills (built as `network(from_dict(config, model))`)."""
    network: Ref
    config: Ref


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline of a family. `studio` is the studio's POST route for it when that is not the usual
    `/api/` + the name with '/' for '.' (`music.sample` -> `/api/music/sample`); the studio reports a route
    only when it really serves it (studio/routes/library.py)."""
    name: str
    cls: Ref
    family: str = ""
    studio: str | None = None

    @property
    def route(self) -> str:
        return self.studio or "/api/" + self.name.replace(".", "/")


@dataclass(frozen=True)
class Starter:
    """A model that ships with artforge: the name users type and its folder (relative: under
    `artforge/assets`; a test may give an absolute one)."""
    name: str
    folder: str

    def path(self) -> Path:
        p = Path(self.folder)
        return p if p.is_absolute() else Path(str(resources.files("artforge") / "assets")) / p


@dataclass(frozen=True)
class Family:
    """Everything artforge needs to know about a model family, in one place."""
    name: str
    help: str                              # a few words for menus and errors
    experiment: Ref                        # its experiment dataclass (train.json's `config`)
    train: Ref                             # train(exp, run_dir, state, quiet, log, callbacks) -> Loop
    check: Ref                             # check(exp): refuse a setting its run would refuse
    archs: dict[str, Arch] = field(default_factory=dict)
    pipelines: tuple[PipelineSpec, ...] = ()
    starters: tuple[Starter, ...] = ()

    def __post_init__(self):
        # Each pipeline knows its family, so a lookup by pipeline name needs no second table.
        object.__setattr__(self, "pipelines", tuple(
            PipelineSpec(p.name, p.cls, self.name, p.studio) for p in self.pipelines))

    def pipeline_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pipelines)

    def arch(self, name: Any) -> Arch:
        if name not in self.archs:
            raise RunError(f"{self.name} architecture {name!r} cannot be loaded by this artforge (it knows "
                           f"{', '.join(self.archs)}); upgrade artforge or retrain the model")
        return self.archs[name]


_REGISTRY: dict[str, Family] = {}


def register(fam: Family) -> Family:
    """Add a family; a name, pipeline or starter that is already taken is a programming error."""
    taken = {p.name for f in _REGISTRY.values() for p in f.pipelines} | {s.name for f in _REGISTRY.values()
                                                                         for s in f.starters}
    clash = ({fam.name} & set(_REGISTRY)) | (set(fam.pipeline_names()) | {s.name for s in fam.starters}) & taken
    if clash:
        raise ValueError(f"family {fam.name}: {', '.join(sorted(clash))} is already registered")
    _REGISTRY[fam.name] = fam
    return fam


@contextlib.contextmanager
def registered(fam: Family) -> Iterator[Family]:
    """`fam` registered while the block runs (for tests and plug-ins tried out in one process)."""
    register(fam)
    try:
        yield fam
    finally:
        _REGISTRY.pop(fam.name, None)


def names() -> tuple[str, ...]:
    """Every family's name, in registration order."""
    return tuple(_REGISTRY)


def all_families() -> tuple[Family, ...]:
    return tuple(_REGISTRY.values())


def family(name: Any) -> Family:
    """The family registered as `name`; RunError naming the known ones otherwise."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise RunError(f"model family {name!r} cannot be loaded by this artforge (it knows {', '.join(names())})")
    return _REGISTRY[name]


def pipeline_specs() -> tuple[PipelineSpec, ...]:
    """Every family's pipelines, family by family."""
    return tuple(p for f in _REGISTRY.values() for p in f.pipelines)


def pipeline_spec(name: str) -> PipelineSpec | None:
    return next((p for p in pipeline_specs() if p.name == name), None)


def starters() -> tuple[Starter, ...]:
    """Every shipped model, family by family."""
    return tuple(s for f in _REGISTRY.values() for s in f.starters)


def starter(name: str) -> Starter | None:
    return next((s for s in starters() if s.name == name), None)


def starter_family(name: str) -> str | None:
    return next((f.name for f in _REGISTRY.values() for s in f.starters if s.name == name), None)


# ---- the registrations ------------------------------------------------------------------------------------

_P = "artforge.pipelines."
_T = "artforge.training.tasks."

register(Family(
    "gan", "pictures from a generator trained on your images",
    experiment=_T + "gan:GANExperiment", train=_T + "gan:train", check=_T + "gan:check",
    archs={"lite": Arch("artforge.models.lite:LiteGenerator", "artforge.models.lite:LiteGANConfig"),
           "dcgan": Arch("artforge.models.dcgan:DCGANGenerator", "artforge.models.dcgan:DCGANConfig")},
    pipelines=(PipelineSpec("generate", _P + "generate:GeneratePipeline"),
               PipelineSpec("interpolate", _P + "interpolate:InterpolatePipeline"),
               PipelineSpec("breed", _P + "breed:BreedPipeline"),
               PipelineSpec("explore", _P + "explore:ExplorePipeline")),
    starters=(Starter("starter", "starter"),)))

register(Family(
    "music", "melodies from a MusicVAE trained on MIDI",
    experiment=_T + "music:MusicExperiment", train=_T + "music:train", check=_T + "music:check",
    archs={"musicvae": Arch("artforge.models.musicvae:MusicVAE", "artforge.models.musicvae:MusicVAEConfig"),
           "musicvae-segments": Arch("artforge.models.musicvae:SegmentVAE",
                                     "artforge.models.musicvae:SegmentVAEConfig")},
    pipelines=(PipelineSpec("music.sample", _P + "music:MusicSamplePipeline"),
               PipelineSpec("music.interpolate", _P + "music:MusicInterpolatePipeline"),
               PipelineSpec("music.breed", _P + "music:MusicBreedPipeline")),
    starters=(Starter("starter:melody-2bar", "music/melody-2bar"),
              Starter("starter:melody-16bar", "music/melody-16bar"))))

register(Family(
    "style", "pictures painted in a style (one style, or any with the arbitrary-style network)",
    experiment=_T + "style:StyleExperiment", train=_T + "style:train", check=_T + "style:check",
    archs={"adain-lite0": Arch("artforge.models.stylenet:StyleDecoder", "artforge.models.stylenet:AdaINConfig"),
           "transform-net": Arch("artforge.models.stylenet:TransformNet",
                                 "artforge.models.stylenet:TransformConfig")},
    pipelines=(PipelineSpec("stylize.optimize", _P + "stylize:StylizePipeline"),
               PipelineSpec("stylize.arbitrary", _P + "style_models:ArbitraryStylePipeline"),
               PipelineSpec("stylize.fast", _P + "style_models:FastStylePipeline")),
    starters=(Starter("starter:style-arbitrary", "style/arbitrary"),)))
