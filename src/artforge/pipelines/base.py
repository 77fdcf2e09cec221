"""What every creating operation shares: declared parameters, a loaded model, outputs with recipes.

A pipeline declares its inputs and settings once, in a torch-free `Spec` (pipelines/specs.py); the CLI
options, the Python API checks and the studio's forms are all built from that declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import UserError
from ..io.weights import WEIGHTS_NAME, file_sha256
from ..models.pretrained import from_pretrained, resolve_model_dir, shipped_model_dir
from ..provenance import build_recipe
from ..runtime import tune_malloc
from .params import Input, Param, Spec

__all__ = ["Input", "ModelHandle", "Output", "Param", "Pipeline", "Spec", "load_model", "pick_device"]


@dataclass
class ModelHandle:
    """A loaded generator plus what recipes need to know about it."""
    module: nn.Module
    config: dict
    sha256: str
    path: Path
    name: str
    device: torch.device = torch.device("cpu")

    @property
    def z_dim(self) -> int:
        return int(self.config["model"]["z_dim"])

    def recipe_model(self) -> dict:
        return {"sha256": self.sha256, "name": self.name, "path": str(self.path.resolve()), "arch": self.config["arch"],
                "config": self.config["model"]}

    def recipe_dataset(self) -> dict:
        d = self.config.get("dataset", {})
        return {k: d.get(k, "unknown") for k in ("manifest_sha256", "licence", "consent")}


DEVICES = "auto, cpu, cuda, cuda:N or mps"
_NO_DEVICE = "use --device cpu, or auto to take a GPU when there is one"


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' (a CUDA GPU, else Apple's MPS, else the CPU) or a device this machine has; UserError otherwise.

    >>> pick_device("cpu")
    device(type='cpu')
    """
    text = str(name).strip()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise UserError(f"device '{text}' is not a device; give {DEVICES}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"device '{text}': this PyTorch cannot use a CUDA GPU here (torch {torch.__version__}); "
                            f"{_NO_DEVICE}")
        k = torch.cuda.device_count()
        if dev.index is not None and dev.index >= k:
            raise UserError(f"device '{text}': this machine has {k} CUDA GPU(s): cuda:0 to cuda:{k - 1}; {_NO_DEVICE}")
    elif dev.type == "mps" and not _mps_available():
        raise UserError(f"device '{text}': Apple's MPS is not available here; {_NO_DEVICE}")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise UserError(f"device '{text}' is not one artforge runs on; give {DEVICES}")
    return dev


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def load_model(name_or_path: str | Path, device: str | torch.device = "cpu", sha256: str | None = None) -> ModelHandle:
    """A model folder (or 'starter') loaded for pipelines; `sha256` skips re-hashing weights already hashed."""
    dev = pick_device(device)
    folder = resolve_model_dir(name_or_path)
    module = from_pretrained(folder, dev)
    name = str(name_or_path) if shipped_model_dir(str(name_or_path)) else folder.name
    return ModelHandle(module, module.artforge_config, sha256 or file_sha256(folder / WEIGHTS_NAME), folder, name, dev)


@dataclass
class Output:
    """What a pipeline made: pictures (or animation frames) with a recipe for each file to be written."""
    images: list = field(default_factory=list)       # PIL images
    recipes: list[dict] = field(default_factory=list)
    kind: str = "image"                              # image | animation | melody
    melodies: list = field(default_factory=list)     # (T,) token arrays, for kind "melody"


def shown_name(model: ModelHandle) -> str:
    """How a user named the model: a shipped model by its name, a run by its folder."""
    return model.name if shipped_model_dir(model.name) else str(model.path)


def _other_verb(model: ModelHandle) -> str:
    """What to do with a model of this family instead."""
    name, family = shown_name(model), model.config.get("family")
    if family == "music":
        return f"for melodies use: artforge music sample {name} --out DIR"
    if family == "style" and model.config.get("arch") == "transform-net":
        return f"to paint a picture in its style use: artforge stylize PICTURE {name} --out OUT.png"
    if family == "style":
        return (f"to paint a picture in a style use: artforge stylize PICTURE STYLE.jpg --method arbitrary "
                f"--model {name} --out OUT.png")
    return f"for pictures use: artforge generate {name} --out DIR" if family == "gan" else "it cannot be used here"


def require_gan(model: ModelHandle, verb: str) -> None:
    """UserError unless `model` is a GAN generator, naming its family and the verb that takes it."""
    family = model.config.get("family")
    if family != "gan":
        raise UserError(f"{shown_name(model)} is a {family} model; {verb} needs a GAN (a run from 'artforge train "
                        f"gan'); {_other_verb(model)}")


class Pipeline:
    """Base class: subclasses set `spec` (their declaration, from pipelines/specs.py) and implement `run`
    and `replay`; `name`, `help`, `inputs` and `params` are the spec's."""

    spec: ClassVar[Spec]
    name: ClassVar[str]
    help: ClassVar[str]
    inputs: ClassVar[tuple[Input, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    needs_gan: ClassVar[bool] = False      # pipelines of other families check their models themselves

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.name, cls.help, cls.inputs, cls.params = spec.name, spec.help, spec.inputs, spec.params

    def __init__(self, model: ModelHandle):
        tune_malloc()                      # reuse freed activation memory between calls (runtime.py)
        if self.needs_gan:
            require_gan(model, self.name)
        self.model = model

    @classmethod
    def resolve(cls, **kwargs: Any) -> dict:
        """Settings with defaults filled in, every value checked; an unknown name is an error naming the valid ones."""
        return cls.spec.resolve(**kwargs)

    @classmethod
    def replay_params(cls, recipe: dict) -> dict:
        """The declared settings a recipe recorded, checked, defaults filled in; other keys are skipped."""
        return cls.spec.replay_params(recipe)

    @classmethod
    def schema(cls) -> dict:
        return cls.spec.schema()

    def __call__(self, *inputs: Any, **kwargs: Any) -> Output:
        """run(inputs..., settings...): inputs (positionally or by their declared names) as given, the
        settings checked by `resolve`."""
        names = {i.name for i in self.inputs}
        given = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        return self.run(*inputs, **given, **self.resolve(**kwargs))

    def run(self, **params: Any) -> Output:
        raise NotImplementedError

    def replay(self, recipe: dict) -> Output:
        raise NotImplementedError

    def recipe(self, output: str, params: dict, parents: list | tuple = ()) -> dict:
        return build_recipe(self.name, output, params, self.model.recipe_model(), self.model.recipe_dataset(),
                            parents, device=self.model.device.type)


def latents(seeds: list[int], z_dim: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """One standard-normal latent per seed, each from its own generator: (len(seeds), z_dim).

    A latent depends on its seed alone, never on what else is in the batch.
    """
    return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds]).to(device)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between latents (Shoemake 1985), following the shell where Gaussians live."""
    an, bn = a / a.norm(), b / b.norm()
    omega = torch.arccos((an * bn).sum().clamp(-1.0, 1.0))
    so = torch.sin(omega)
    if so.abs() < 1e-6:
        return (1.0 - t) * a + t * b
    return (torch.sin((1.0 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
