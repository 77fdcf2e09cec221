"""The family registry (artforge.families): one registration per family, read by from_pretrained, the
trainer, the CLI, PIPELINES and replay. A toy family registered here is picked up by all of them."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from artforge import families
from artforge.cli.main import main
from artforge.io.weights import file_sha256, save_config, save_weights
from artforge.models.pretrained import build_from_config, from_pretrained
from artforge.pipelines import PIPELINES, Output, Param, Pipeline, load_model
from artforge.pipelines.replay import candidate_model_dirs, replay
from artforge.provenance.write import save_image
from artforge.training.interfaces import TrainConfig
from artforge.training.tasks import families as training_families

try:
    from artforge.pipelines.params import Spec
except ImportError:
    Spec = None

_MELODY = {"steps": 32, "embed_dim": 4, "enc_hidden": 4, "z_dim": 4, "dec_hidden": 4, "dec_layers": 1,
           "conductor_hidden": 4, "conductor_dim": 4}
# The `model` section of a tiny config.json for every registered (family, arch).
TINY = {("gan", "lite"): {"resolution": 16, "z_dim": 8, "g_channels": 8, "d_channels": 8, "max_channels": 16},
        ("gan", "dcgan"): {"resolution": 16, "z_dim": 8, "g_channels": 8, "d_channels": 8, "max_channels": 16},
        ("music", "musicvae"): _MELODY,
        ("music", "musicvae-segments"): {"steps": 64, "segment": _MELODY, "hidden": 8, "z_dim": 4},
        ("style", "adain-lite0"): {"widths": [4, 4, 4], "deep_convs": 1},
        ("style", "transform-net"): {"widths": [4, 4, 4], "res_blocks": 1}}


def test_the_registry_lists_families_pipelines_and_starters_without_importing_torch():
    code = ("import json, sys; from artforge import families as f; "
            "print(json.dumps([[x.name for x in f.all_families()], [p.name for p in f.pipeline_specs()], "
            "[s.name for s in f.starters()], 'torch' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [["gan", "music", "style"],
                               ["generate", "interpolate", "breed", "explore", "music.sample", "music.interpolate",
                                "music.breed", "stylize.optimize", "stylize.arbitrary", "stylize.fast"],
                               ["starter", "starter:melody-2bar", "starter:melody-16bar", "starter:style-arbitrary"],
                               False]


def test_the_tiny_configs_cover_every_registered_architecture():
    assert set(TINY) == {(f.name, a) for f in families.all_families() for a in f.archs}


@pytest.mark.parametrize("family,arch", sorted(TINY))
def test_every_architecture_round_trips_through_config_json(tmp_path, family, arch):
    config = {"family": family, "arch": arch, "model": TINY[family, arch]}
    net = build_from_config(config)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p))        # not the init: a load that rebuilt fresh weights would differ
    save_config(config, tmp_path / "config.json")
    save_weights(net, tmp_path / "model.safetensors")
    back = from_pretrained(tmp_path)
    spec = families.family(family).arch(arch)
    assert type(back) is families.resolve(spec.network) and back.config == net.config
    assert back.artforge_config == config
    got, want = back.state_dict(), net.state_dict()
    assert list(got) == list(want) and all(torch.equal(got[k], want[k]) for k in want)


def test_an_architecture_no_family_registers_is_refused_naming_the_known_ones():
    with pytest.raises(families.RunError) as e:
        build_from_config({"family": "style", "arch": "vgg-decoder", "model": {}})
    assert str(e.value) == ("style architecture 'vgg-decoder' cannot be loaded by this artforge (it knows "
                            "adain-lite0, transform-net); upgrade artforge or retrain the model")
    with pytest.raises(families.RunError, match=r"^model family 'restore' cannot be loaded by this artforge "
                                                r"\(it knows gan, music, style\)$"):
        build_from_config({"family": "restore", "arch": "x", "model": {}})


@pytest.mark.parametrize("name", [s.name for s in families.starters()])
def test_every_starter_loads_through_the_registry(name):
    handle = load_model(name)
    fam = families.family(families.starter_family(name))
    assert handle.config["family"] == fam.name and handle.name == name
    assert type(handle.module) is families.resolve(fam.arch(handle.config["arch"]).network)
    assert handle.path == families.starter(name).path()
    assert handle.sha256 == file_sha256(handle.path / "model.safetensors")


def test_the_registry_lists_exactly_the_families_training_accepts(tmp_path, capsys):
    trained = training_families()
    assert list(trained) == list(families.names())
    for name, fam in trained.items():
        assert fam.experiment is families.resolve(families.family(name).experiment)
        assert fam.train is families.resolve(families.family(name).train)
    assert main(["train", "restore", str(tmp_path), "--run", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == ("error: unknown model family 'restore'; choose one of: "
                                               "gan, music, style")


def test_pipelines_is_the_registrys_pipelines_with_their_own_names():
    assert list(PIPELINES) == [p.name for p in families.pipeline_specs()]
    assert all(PIPELINES[name].name == name for name in PIPELINES)
    assert "restore.sample" not in PIPELINES


# ---- a toy family, registered once, is picked up everywhere ------------------------------------------------

@dataclasses.dataclass
class ToyConfig:
    width: int = 2


class ToyNet(nn.Module):
    """z (B, 2) -> a 4x4 RGB picture (B, 4, 4, 3) in [0, 1]."""

    def __init__(self, config: ToyConfig):
        super().__init__()
        self.config = config
        self.net = nn.Linear(config.width, 48)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(-1, 4, 4, 3)


class ToyPipeline(Pipeline):
    name = "toy.paint"
    help = "a 4x4 picture from a seed"
    params = (Param("seed", "int", 0, "seed of the picture", 0, 2**31 - 1),)
    if Spec is not None:                        # pipelines declared by a Spec (artforge.pipelines.params)
        spec = Spec(name, help, params=params)

    def run(self, seed: int) -> Output:
        z = torch.randn(1, self.model.module.config.width, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            px = (self.model.module(z)[0] * 255).round().to(torch.uint8).numpy()
        return Output([Image.fromarray(px)], [self.recipe("image", {"seed": seed})])

    def replay(self, recipe: dict) -> Output:
        return self.run(**self.replay_params(recipe))


@dataclasses.dataclass
class ToyData:
    path: str = ""


@dataclasses.dataclass
class ToyExperiment:
    data: ToyData = dataclasses.field(default_factory=ToyData)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


@pytest.fixture
def toy(tmp_path):
    """The toy family registered (with one starter in tmp_path) while the test runs; `.trained` records the
    calls of its training function."""
    trained = []

    def train(exp, run_dir, state=None, quiet=False, log=print, callbacks=()):
        trained.append((exp.data.path, str(run_dir), state))
        return SimpleNamespace(step=exp.train.steps)

    folder = tmp_path / "toy-starter"
    folder.mkdir()
    torch.manual_seed(1)
    save_weights(ToyNet(ToyConfig()), folder / "model.safetensors")
    save_config({"family": "toy", "arch": "toy-net", "model": {"width": 2}}, folder / "config.json")
    fam = families.Family("toy", "pictures from a toy", experiment=ToyExperiment, train=train, check=lambda exp: None,
                          archs={"toy-net": families.Arch(ToyNet, ToyConfig)},
                          pipelines=(families.PipelineSpec("toy.paint", ToyPipeline),),
                          starters=(families.Starter("starter:toy", str(folder)),))
    with families.registered(fam):
        yield SimpleNamespace(family=fam, trained=trained, folder=folder)
    assert "toy" not in families.names()


def test_a_registered_family_is_loaded_by_from_pretrained_by_its_starters_name(toy):
    net = from_pretrained("starter:toy")
    assert type(net) is ToyNet and net.config == ToyConfig(2)


def test_a_registered_familys_pipelines_are_in_pipelines(toy):
    assert PIPELINES["toy.paint"] is ToyPipeline and list(PIPELINES)[-1] == "toy.paint"


def test_a_registered_family_is_trained_by_artforge_train(toy, tmp_path):
    data = tmp_path / "toy-data"
    data.mkdir()
    assert training_families()["toy"].experiment is ToyExperiment
    assert main(["train", "toy", str(data), "--run", str(tmp_path / "run"), "--steps", "3", "--quiet"]) == 0
    assert toy.trained == [(str(data.resolve()), str(tmp_path / "run"), None)]


def test_a_registered_familys_output_replays_from_its_starter(toy, tmp_path):
    out = ToyPipeline(load_model("starter:toy"))(seed=5)
    recipe = out.recipes[0]
    del recipe["model"]["path"]                 # replay must find the model among the starters
    assert "starter:toy" in candidate_model_dirs(recipe, None)
    save_image(out.images[0], tmp_path / "toy.png", recipe)
    path, same = replay(tmp_path / "toy.png", tmp_path / "again.png", device="cpu")
    assert same is True and json.loads(Image.open(path).text["artforge.recipe"])["pipeline"] == "toy.paint"
    assert np.array_equal(np.asarray(Image.open(path)), np.asarray(out.images[0]))


def test_a_second_registration_of_a_taken_name_is_refused(toy):
    again = families.Family("music2", "", experiment=None, train=None, check=None,
                            pipelines=(families.PipelineSpec("toy.paint", ToyPipeline),))
    with pytest.raises(ValueError, match="^family music2: toy.paint is already registered$"):
        families.register(again)
    assert "music2" not in families.names()


def test_a_registered_familys_starter_is_one_of_the_studios_shipped_models(toy):
    from artforge.studio.models import shipped

    assert shipped("starter:toy") and shipped("starter:melody-2bar") and not shipped("toy-starter")
