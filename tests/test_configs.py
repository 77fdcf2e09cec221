"""The example configs in configs/ load without error (a typo there would mislead every reader)."""

from pathlib import Path

import pytest

from artforge import config as C
from artforge.training.tasks.gan import GANExperiment, network_config

CONFIGS = sorted((Path(__file__).parent.parent / "configs" / "gan").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_example_config_loads(path):
    exp = C.merge(GANExperiment(), C.load_toml(path), where=f" in {path}")
    assert network_config(exp)["resolution"] == exp.data.resolution


def test_override_types_and_unknown_keys():
    exp = C.apply_overrides(GANExperiment(), ["train.steps=12", "gan.ada=false", "--data.crop=pad"])
    assert exp.train.steps == 12 and exp.gan.ada is False and exp.data.crop == "pad"
    with pytest.raises(C.ConfigError, match="did you mean 'gan.lr_g'"):
        C.apply_overrides(GANExperiment(), ["gan.lr_gg=1"])
    with pytest.raises(C.ConfigError, match="must be of type int"):
        C.apply_overrides(GANExperiment(), ["train.steps=ten"])
    assert len(CONFIGS) >= 3
