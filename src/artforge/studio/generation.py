"""Generation for the studio: the generate pipeline, fed by the batcher, with the copy guard.

Requests that share a batch share ONE forward pass of the generator: their latents (each a function of
its seed alone, scaled by its request's truncation) are concatenated, the images split back per request,
and the copy guard judges the whole batch in one call too. The pipeline itself then does what it always
does (redraws of flagged images, recipes), so a studio image carries the same recipe as the CLI's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Annotated, Any, Callable

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..errors import UserError, quoted
from ..models.pretrained import STARTER
from ..pipelines import GeneratePipeline, Output, Pipeline
from ..pipelines.base import latents
from ..pipelines.params import Input, Spec
from ..pipelines.generate import batch_invariant_forward
from .models import ModelLibrary


_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str, "ints": list[int]}
ArtworkId = Annotated[int, Field(ge=1, le=2**63 - 1)]        # SQLite's integers


def input_field(i: Input, default: Any = ...) -> tuple[Any, Any]:
    """A declared input as a body field: a model by its name, a file or an artwork by the id of the artwork
    that holds it (the studio keeps every file as an artwork), several as a list of ids."""
    if i.kind == "model":
        return str, Field(default, max_length=100, description=i.help)
    if i.many:
        return list[ArtworkId], Field(default, min_length=i.min, max_length=i.max,
                                      description=f"artwork ids of {i.help}")
    return ArtworkId, Field(default, description=f"artwork id of {i.help}")


def params_model(pipeline: type[Pipeline] | Spec, name: str, exclude: tuple[str, ...] = (),
                 defaults: dict | None = None, **extra: Any) -> type[BaseModel]:
    """A request body built from a pipeline's declaration: one field per input (typed by `input_field`), then
    one per setting (types, defaults, help and ranges documented in the OpenAPI schema; the values are
    checked by the Params themselves). `exclude` leaves fields out, `defaults` changes defaults, `extra`
    adds fields or replaces derived ones. Types are strict: true is not 1, "yes" is not true, 2.0 is not an
    integer; NaN and infinities are refused."""
    defaults = defaults or {}
    fields: dict[str, Any] = {i.name: input_field(i, defaults.get(i.name, ...)) for i in pipeline.inputs
                              if i.name not in exclude}
    for p in pipeline.params:
        if p.name in exclude:
            continue
        limits = {k: v for k, v in (("minimum", p.min), ("maximum", p.max)) if v is not None}
        finite = {"allow_inf_nan": False} if p.kind == "float" else {}
        fields[p.name] = (_TYPES[p.kind], Field(defaults.get(p.name, p.default), description=p.help,
                                                json_schema_extra=limits or None, **finite))
    fields.update(extra)
    return create_model(name, __config__=ConfigDict(extra="forbid", strict=True), **fields)


GenerateBody = params_model(GeneratePipeline, "GenerateBody", exclude=("batch_size",),
                            defaults={"n": 4, "no_copies": True},
                            model=(str, Field(STARTER, max_length=100,
                                              description="'starter' or a run folder's name (see /api/models)")))


def check_generate(params: dict, where: str = "params") -> tuple[str, dict]:
    """(model name, generate's checked arguments) from a request's settings: the one check behind both
    POST /api/generate and generate jobs. A bad value is a UserError naming `where`.field."""
    try:
        values = GenerateBody.model_validate(params).model_dump()
    except ValidationError as e:
        err = e.errors()[0]
        field = quoted(".".join(map(str, err["loc"])), bare=True)
        raise UserError(f"{where}.{field}: {err['msg']}") from None
    model = values.pop("model")
    return model, GeneratePipeline.resolve(**values, batch_size=1)


@dataclass(frozen=True)
class GenerateRequest:
    model: str
    n: int
    seed: int
    truncation: float
    no_copies: bool


class _Precomputed(GeneratePipeline):
    """The generate pipeline over images the batcher already computed for this request."""

    def __init__(self, model, x: torch.Tensor, copy_check):
        super().__init__(model, copy_check=copy_check)
        self._x = x

    def images(self, seed, count, truncation, batch_size, start=0):
        assert start == 0 and count == len(self._x)
        return self._x.clone()


class _FirstAnswer:
    """A copy check whose first answer was computed for the whole batch; later calls (redraws) ask the guard."""

    def __init__(self, guard, verdicts: list[dict] | None):
        self.guard, self.verdicts = guard, verdicts

    def __call__(self, images: torch.Tensor) -> list[dict]:
        if self.verdicts is not None:
            v, self.verdicts = self.verdicts, None
            return v
        return self.guard(images)


class Generator:
    """The batch function: GenerateRequests -> one Output (or an exception) per request."""

    def __init__(self, library: ModelLibrary, copy_check_factory: Callable | None = None):
        self.library = library
        self.copy_check_factory = copy_check_factory
        self._guards: dict[str, object] = {}

    def guard(self, name: str, handle):
        key = f"{name}:{handle.sha256}"
        if key not in self._guards:
            if self.copy_check_factory is not None:
                self._guards[key] = self.copy_check_factory(handle)
            else:
                self._guards[key] = self._copy_guard(name, handle)
        return self._guards[key]

    def _copy_guard(self, name: str, handle):
        """The real copy check; a model without a readable index is a UserError that names no server path."""
        from ..metrics.guard import CopyGuard

        note = self.library.copy_check_note(name)
        if note is not None:
            raise UserError(f"no_copies: {note}; untick 'No copies' to generate without the check")
        try:
            return CopyGuard.for_model(handle)
        except UserError:
            raise UserError(f"no_copies: the copy-check index of model {name!r} is damaged; untick 'No copies' "
                            "to generate without the check, and ask the studio's owner to rebuild it") from None

    def __call__(self, requests: list[GenerateRequest]) -> list[Output | Exception]:
        results: list[Output | Exception | None] = [None] * len(requests)
        groups: dict[tuple[str, bool], list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r.model, r.no_copies), []).append(i)
        for (name, no_copies), idx in groups.items():
            try:
                outs = self._group(name, no_copies, [requests[i] for i in idx])
            except Exception as e:          # this group's callers get the error; other groups go on
                outs = [e] * len(idx)
            for i, out in zip(idx, outs):
                results[i] = out
        return results

    @torch.no_grad()
    def _group(self, name: str, no_copies: bool, reqs: list[GenerateRequest]) -> list[Output]:
        handle = self.library.load(name)
        guard = self.guard(name, handle) if no_copies else None
        z = torch.cat([latents(list(range(r.seed, r.seed + r.n)), handle.z_dim) * r.truncation for r in reqs])
        x = batch_invariant_forward(handle.module, z.to(handle.device))          # (sum n, 3, H, W)
        verdicts = guard(x) if guard is not None else None
        outs, lo = [], 0
        for r in reqs:
            xr = x[lo:lo + r.n]
            check = _FirstAnswer(guard, verdicts[lo:lo + r.n]) if guard is not None else None
            outs.append(_Precomputed(handle, xr, check).run(n=r.n, seed=r.seed, truncation=r.truncation,
                                                            batch_size=r.n, no_copies=no_copies, grid=False))
            lo += r.n
        return outs


def store_outputs(studio, author: int | None, model: str, out: Output, parents: list[int] = (),
                  record: Callable | None = None) -> list[dict]:
    """Write each image to the object store, then record all of them in ONE transaction (with whatever
    `record(connection, ids)` adds to it: a generate job's count of images made)."""
    shas = [studio.objects.put(png_bytes(img)) for img in out.images]
    with studio.store.tx() as c:
        ids = [studio.store.add_artwork(c, sha256=sha, author=author, model=model, pipeline=r["pipeline"],
                                        recipe=r, seed=r["params"].get("image_seed"), parents=list(parents))
               for sha, r in zip(shas, out.recipes)]
        if record is not None:
            record(c, ids)
    return [studio.store.artwork(i, author) for i in ids]


def png_bytes(image, text: dict[str, str] | None = None) -> bytes:
    """A PIL image as PNG bytes, with `text` as iTXt chunks."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()
