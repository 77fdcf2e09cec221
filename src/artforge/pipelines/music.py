"""Melodies from a MusicVAE: sample, interpolate (morph) between two tunes, steer with attributes, breed.

Every melody is written from its own latent and its own sampling noise (Gumbel noise drawn from its own
seed), so which notes it gets never depends on what else shares its batch; melodies are decoded in
chunks of `batch_size`, and a replay recomputes the same chunk, so it is bit-identical on the same kind
of CPU. Melodies given as input (interpolation ends, breeding parents) are stored in the recipe as
tokens, so replay needs no input file.

Attribute vectors (MusicVAE section 5.3) live beside the weights in `attributes.safetensors`: for each
attribute, the mean latent of the training windows in its top quartile minus that of the bottom quartile.
`attribute="density=+1.5"` adds 1.5 of that vector to every latent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from ..data.melody import ATTRIBUTES, STEPS_PER_BAR, events_to_notes, notes_to_events
from ..data.midi import BadMidi, read_midi
from ..data.music import windows
from ..errors import RecipeError, UserError
from ..io.midi import concat
from ..io.weights import load_weights
from ..models.musicvae import gumbel_noise
from .base import ModelHandle, Output, Pipeline, latents, slerp
from .specs import MUSIC_BREED, MUSIC_INTERPOLATE, MUSIC_SAMPLE

ATTRIBUTES_NAME = "attributes.safetensors"
LATENT_MEAN, LATENT_STD = "latent.mean", "latent.std"   # written with the attribute vectors


def require_music(model: ModelHandle) -> None:
    if model.config.get("family") != "music":
        raise UserError(f"{model.path} is not a music model (family '{model.config.get('family')}'); "
                        "train one with: artforge train music DIR --run RUN_DIR --bars 2")


def melody_sha256(events) -> str:
    return hashlib.sha256(np.asarray(events, dtype=np.int8).tobytes()).hexdigest()


def to_bar_line(events: np.ndarray) -> np.ndarray:
    """A melody read from a file, completed with silence to the end of its last bar: a MIDI track ends at
    its last note-off, so a tune whose last bar ends in a rest comes back a few steps short of it."""
    if not len(events) % STEPS_PER_BAR:
        return events
    return notes_to_events(events_to_notes(events), -(-len(events) // STEPS_PER_BAR) * STEPS_PER_BAR)


def parse_attributes(text: str) -> dict[str, float]:
    """'density=+1.5,pitch=-1' -> {'density': 1.5, 'pitch': -1.0}; unknown names are a UserError.

    >>> parse_attributes("density=+1.5, stepwise=-0.5")
    {'density': 1.5, 'stepwise': -0.5}
    """
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in (text or "").split(","))):
        name, sep, amount = item.partition("=")
        name = name.strip()
        if not sep or name not in ATTRIBUTES:
            raise UserError(f"attribute: expected name=amount with name one of {', '.join(ATTRIBUTES)}, got '{item}'")
        try:
            out[name] = float(amount)
        except ValueError:
            raise UserError(f"attribute: '{amount}' is not a number (in '{item}')") from None
        if not -5 <= out[name] <= 5:
            raise UserError(f"attribute: {name}={out[name]} is out of range [-5, 5]")
    return out


class MusicPipeline(Pipeline):
    """What the music pipelines share: the model's bars, latents with attributes, decoding one melody."""

    def __init__(self, model: ModelHandle):
        require_music(model)
        super().__init__(model)
        self.vae = model.module
        self.steps = int(model.config["model"]["steps"])
        self._attributes: dict[str, torch.Tensor] | None = None

    def attribute_vectors(self) -> dict[str, torch.Tensor]:
        if self._attributes is None:
            path = Path(self.model.path) / ATTRIBUTES_NAME
            self._attributes = load_weights(path) if path.is_file() else {}
        return self._attributes

    def prior(self, seeds: list[int]) -> torch.Tensor:
        """One latent per seed: standard normal noise placed where the training melodies' latents lie
        (their mean and spread, per dimension) when the model folder has them, else N(0, I)."""
        eps = latents(seeds, self.model.z_dim)
        v = self.attribute_vectors()
        if LATENT_MEAN in v and LATENT_STD in v:
            return v[LATENT_MEAN].float() + v[LATENT_STD].float() * eps
        return eps

    def steer(self, z: torch.Tensor, attribute: str) -> torch.Tensor:
        amounts = parse_attributes(attribute)
        vectors = self.attribute_vectors()
        for name, amount in amounts.items():
            if name not in vectors:
                raise UserError(f"attribute: this model has no '{name}' vector ({ATTRIBUTES_NAME} missing or "
                                "incomplete in its folder; it is written at the end of training)")
            z = z + amount * vectors[name].to(z)
        return z

    def write(self, z: torch.Tensor, seeds: list[int], temperature: float) -> list[np.ndarray]:
        """Melodies (T,) from latents (B, z_dim), melody i sampled with noise from seeds[i], in one batch."""
        gumbel = None
        if temperature > 0:
            c = self.vae.config
            gumbel = torch.cat([gumbel_noise(1, c.steps, c.n_classes, torch.Generator().manual_seed(int(s)))
                                for s in seeds])
        out = self.vae.decode(z.to(self.model.device), temperature, gumbel=gumbel).cpu().numpy()
        return list(out)

    def encode_melody(self, events) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(events, dtype=np.int64))[None].to(self.model.device)
        mu, _ = self.vae.encode(x)
        return mu[0].float().cpu()

    def melody_from_file(self, path: str | Path) -> np.ndarray:
        """The first window of the model's length in a MIDI file's first melodic part, as tokens."""
        bars = self.steps // STEPS_PER_BAR
        try:
            parts = read_midi(path)
        except BadMidi as e:
            raise UserError(f"{path}: {e}") from None
        for part in parts:
            found = windows(to_bar_line(part), bars, 1)
            if found:
                return found[0]
        raise UserError(f"{path} has no melody of {bars} bars that this model can read (it needs at least "
                        f"{2 * bars} notes without a rest longer than a bar)")

    def melody_input(self, value) -> np.ndarray:
        """A melody given as a MIDI path or as a token list (from a recipe)."""
        if isinstance(value, (list, tuple, np.ndarray)):
            ev = np.asarray(value, dtype=np.int64)
            if ev.shape != (self.steps,):
                raise RecipeError(f"a stored melody has {ev.shape} tokens; this model reads {self.steps}")
            return ev
        return self.melody_from_file(value)


class MusicSamplePipeline(MusicPipeline):
    spec = MUSIC_SAMPLE

    @torch.no_grad()
    def melodies(self, seed: int, count: int, temperature: float, attribute: str, batch_size: int,
                 start: int = 0) -> list[np.ndarray]:
        """Melodies for seeds seed+start ..., decoded in chunks aligned to `batch_size`."""
        out: list[np.ndarray] = []
        for lo in range(start, start + count, batch_size):
            seeds = list(range(seed + lo, seed + min(lo + batch_size, start + count)))
            z = self.steer(self.prior(seeds), attribute)
            out += self.write(z, seeds, temperature)
        return out

    def run(self, n: int, seed: int, temperature: float, attribute: str, batch_size: int = 16,
            bpm: float = 120.0) -> Output:
        parse_attributes(attribute)
        params = {"n": n, "seed": seed, "temperature": temperature, "attribute": attribute,
                  "batch_size": batch_size, "bpm": bpm}
        melodies = self.melodies(seed, n, temperature, attribute, batch_size)
        recipes = [self.recipe("melody", {**params, "index": i}) for i in range(n)]
        return Output(melodies=melodies, recipes=recipes, kind="melody")

    def replay(self, recipe: dict) -> Output:
        p = self.resolve(**{k: recipe["params"][k] for k in ("n", "seed", "temperature", "attribute", "batch_size")})
        i = recipe["params"].get("index")
        if not isinstance(i, int) or not 0 <= i < p["n"]:
            raise RecipeError("the recipe's params.index is missing or out of range")
        lo = i // p["batch_size"] * p["batch_size"]
        chunk = self.melodies(p["seed"], min(p["batch_size"], p["n"] - lo), p["temperature"], p["attribute"],
                              p["batch_size"], lo)
        return Output(melodies=[chunk[i - lo]], recipes=[recipe], kind="melody")


class MusicInterpolatePipeline(MusicPipeline):
    spec = MUSIC_INTERPOLATE

    @torch.no_grad()
    def morph(self, a: np.ndarray, b: np.ndarray, steps: int, temperature: float, seed: int, attribute: str):
        za, zb = self.encode_melody(a), self.encode_melody(b)
        z = torch.stack([slerp(za, zb, float(t)) for t in np.linspace(0.0, 1.0, steps)])
        return self.write(self.steer(z, attribute), [seed + i for i in range(steps)], temperature)

    def run(self, a, b, steps: int, temperature: float, seed: int, attribute: str, bpm: float = 120.0) -> Output:
        if a == "" or b == "":
            raise UserError("music.interpolate needs two melodies: a=FILE.mid and b=FILE.mid")
        ea, eb = self.melody_input(a), self.melody_input(b)
        melodies = self.morph(ea, eb, steps, temperature, seed, attribute)
        params = {"steps": steps, "temperature": temperature, "seed": seed, "attribute": attribute, "bpm": bpm,
                  "a_tokens": ea.tolist(), "b_tokens": eb.tolist(),
                  "a_name": Path(str(a)).name if isinstance(a, (str, Path)) else "", "b_name":
                  Path(str(b)).name if isinstance(b, (str, Path)) else ""}
        parents = [{"melody_sha256": melody_sha256(ea), "name": params["a_name"]},
                   {"melody_sha256": melody_sha256(eb), "name": params["b_name"]}]
        recipes = [self.recipe("melody", {**params, "index": i}, parents) for i in range(steps)]
        morph = self.recipe("morph", params, parents)
        return Output(melodies=melodies + [concat(melodies)], recipes=recipes + [morph], kind="melody")

    def replay(self, recipe: dict) -> Output:
        rp = recipe["params"]
        p = self.resolve(**{k: rp[k] for k in ("steps", "temperature", "seed", "attribute")})
        melodies = self.morph(self.melody_input(rp["a_tokens"]), self.melody_input(rp["b_tokens"]), p["steps"],
                              p["temperature"], p["seed"], p["attribute"])
        if recipe.get("output") == "morph":
            return Output(melodies=[concat(melodies)], recipes=[recipe], kind="melody")
        i = rp.get("index")
        if not isinstance(i, int) or not 0 <= i < p["steps"]:
            raise RecipeError("the recipe's params.index is missing or out of range")
        return Output(melodies=[melodies[i]], recipes=[recipe], kind="melody")


class MusicBreedPipeline(MusicPipeline):
    """Children of two or more melodies: each latent dimension is taken from a parent at random
    (crossover), then moved toward the parents' mean by `blend` and by Gaussian noise of `mutation`."""

    spec = MUSIC_BREED

    @staticmethod
    def child_latent(zs: torch.Tensor, seed: int, mutation: float, blend: float) -> torch.Tensor:
        g = torch.Generator().manual_seed(int(seed))
        pick = torch.randint(0, len(zs), (zs.shape[1],), generator=g)
        z = zs[pick, torch.arange(zs.shape[1])]
        z = (1 - blend) * z + blend * zs.mean(0)
        return z + mutation * torch.randn(zs.shape[1], generator=g)

    @torch.no_grad()
    def children_of(self, tokens, children: int, mutation: float, blend: float, temperature: float,
                    seed: int) -> list[np.ndarray]:
        zs = torch.stack([self.encode_melody(t) for t in tokens])
        seeds = [seed + i for i in range(children)]
        z = torch.stack([self.child_latent(zs, s, mutation, blend) for s in seeds])
        return self.write(z, seeds, temperature)

    def run(self, parents, children: int, mutation: float, blend: float, temperature: float, seed: int,
            bpm: float = 120.0) -> Output:
        items = [s.strip() for s in parents.split(",") if s.strip()] if isinstance(parents, str) else list(parents)
        if len(items) < 2:
            raise UserError("music.breed needs two or more parent melodies (MIDI files)")
        tokens = [self.melody_input(p) for p in items]
        names = [Path(p).name if isinstance(p, (str, Path)) else f"parent{i}" for i, p in enumerate(items)]
        return self._breed(tokens, names, children, mutation, blend, temperature, seed, bpm)

    def _breed(self, tokens, names, children, mutation, blend, temperature, seed, bpm) -> Output:
        kids = self.children_of(tokens, children, mutation, blend, temperature, seed)
        params = {"children": children, "mutation": mutation, "blend": blend, "temperature": temperature,
                  "seed": seed, "bpm": bpm, "parent_tokens": [t.tolist() for t in tokens]}
        lineage = [{"melody_sha256": melody_sha256(t), "name": n} for t, n in zip(tokens, names)]
        recipes = [self.recipe("melody", {**params, "index": i, "melody_sha256": melody_sha256(k)}, lineage)
                   for i, k in enumerate(kids)]
        return Output(melodies=kids, recipes=recipes, kind="melody")

    def replay(self, recipe: dict) -> Output:
        rp = recipe["params"]
        p = {k: rp[k] for k in ("children", "mutation", "blend", "temperature", "seed")}
        p = self.resolve(**p)
        tokens = [self.melody_input(t) for t in rp["parent_tokens"]]
        i = rp.get("index")
        if not isinstance(i, int) or not 0 <= i < p["children"]:
            raise RecipeError("the recipe's params.index is missing or out of range")
        kids = self.children_of(tokens, p["children"], p["mutation"], p["blend"], p["temperature"], p["seed"])
        return Output(melodies=[kids[i]], recipes=[recipe], kind="melody")
