"""A training setting is declared once, by the `setting` tags on its config field, and every face is read
from them: the flags of `artforge train`, the settings a studio job may change (and their form), the keys a
resumed run may change. These tests build all three from the tags and hold them to what the trainer takes."""

from __future__ import annotations

import argparse

import pytest

from artforge import config as C
from artforge.cli.main import common_parser, verb_parsers
from artforge.cli.train import _flag_overrides, flag_settings
from artforge.errors import RunError, UserError
from artforge.studio.jobplan import settings_json, setting_text, studio_settings
from artforge.training.run import resume_experiment, resumable_keys
from artforge.training.tasks import families

FAMILIES = sorted(families())

# What the studio and --resume allowed before the tags: GAN jobs may set exactly these (TRAIN_KEYS), and a
# resumed GAN run may change exactly these (RESUMABLE_KEYS). The tags must keep both.
GAN_STUDIO_KEYS = [
    "data.resolution", "data.crop", "data.background", "data.hflip",
    "model.arch", "model.preset", "model.z_dim", "model.g_channels", "model.d_channels", "model.max_channels",
    "gan.loss", "gan.augment", "gan.ada", "gan.aug_p", "gan.ada_target", "gan.ada_kimg", "gan.r1_gamma",
    "gan.r1_every", "gan.lr_g", "gan.lr_d", "gan.beta1", "gan.beta2",
    "train.batch_size", "train.accumulate", "train.seed", "train.precision", "train.grad_clip", "train.ema_kimg",
    "train.ema_rampup", "train.log_every", "train.sample_every", "train.checkpoint_minutes",
    "train.checkpoint_every", "train.keep_checkpoints", "train.budget_minutes", "train.init_from",
    "eval.kid_every", "eval.kid_samples", "eval.keep_best"]
GAN_RESUMABLE = {"train.steps", "train.log_every", "train.sample_every", "train.checkpoint_minutes",
                 "train.checkpoint_every", "train.keep_checkpoints", "train.threads", "train.device",
                 "train.budget_minutes", "eval.kid_every", "eval.kid_samples", "data.path"}
# The flags `artforge train` had before they were read from the tags, and the key each sets.
FLAGS = {"--preset": "model.preset", "--arch": "model.arch", "--resolution": "data.resolution",
         "--bars": "data.bars", "--batch-size": "train.batch_size", "--steps": "train.steps",
         "--device": "train.device"}


def _train_parser() -> argparse.ArgumentParser:
    return verb_parsers("train", [common_parser()])["train"]


def test_the_gan_studio_keys_and_resumable_keys_are_what_they_were():
    assert [d.key for d in studio_settings("gan")] == GAN_STUDIO_KEYS
    assert resumable_keys(families()["gan"].experiment) == GAN_RESUMABLE


@pytest.mark.parametrize("family", FAMILIES)
def test_every_studio_setting_is_a_scalar_key_of_its_family_that_the_config_takes(family):
    exp_cls = families()[family].experiment
    keys = C.all_keys(exp_cls)
    for d in studio_settings(family):
        assert d.key in keys and d.type in (bool, int, float, str), d
        # Its default, as the studio writes it on the command line, comes back as the same value.
        again = C.apply_overrides(exp_cls(), [f"{d.key}={setting_text(d, d.default)}"])
        assert C.to_dict(again) == C.to_dict(exp_cls()), d.key


@pytest.mark.parametrize("family", FAMILIES)
def test_the_studio_form_lists_exactly_the_tagged_settings_with_their_tags(family):
    tagged = [d for d in C.declared(families()[family].experiment) if d.tag.studio]
    shown = settings_json(family)
    assert [s["key"] for s in shown] == [d.key for d in tagged]
    for s, d in zip(shown, tagged):
        lo, hi = d.range or (None, None)
        assert s == {"key": d.key, "type": d.type.__name__, "default": d.default, "min": lo, "max": hi,
                     "help": d.tag.help}
        assert s["help"], f"{d.key} has no help text for the form"


def test_the_train_flags_are_the_tagged_ones_each_setting_its_key():
    parser = _train_parser()
    own = {o for a in parser._actions for o in a.option_strings if o not in ("--run", "--run-dir", "--resume",
                                                                             "--config", "--quiet", "--debug",
                                                                             "-h", "--help")}
    assert own == set(flag_settings()) == set(FLAGS)
    for flag, key in FLAGS.items():
        d, fams = flag_settings()[flag]
        assert d.key == key and fams == [f for f in FAMILIES if key in C.all_keys(families()[f].experiment)]
        value = "16" if d.type is int else "cpu"
        args = parser.parse_args(["gan", "DIR", flag, value])
        assert _flag_overrides(args) == [f"{key}={value}"]


def test_resume_refuses_exactly_the_flags_whose_key_is_not_resumable(cli, tmp_path):
    for flag, key in FLAGS.items():
        d, fams = flag_settings()[flag]
        resumable = all(key in resumable_keys(families()[f].experiment) for f in fams)
        with pytest.raises(UserError) as e:
            cli("train", "--resume", tmp_path / "run", flag, "16" if d.type is int else "cpu", "--debug")
        # A resumable flag passes the CLI's gate and goes on to the run folder (missing here).
        said = f"run folder not found: {tmp_path / 'run'}" if resumable else "--resume keeps the run's config"
        assert str(e.value).startswith(said), (flag, str(e.value))


def test_every_resumable_key_is_accepted_on_resume_and_no_other(trained_run, tmp_path):
    fams = families()
    for key in sorted(resumable_keys(fams["gan"].experiment)):
        value = {"train.steps": 50, "train.device": "cpu", "data.path": str(tmp_path)}.get(key, 7)
        _, exp, _ = resume_experiment(trained_run, fams, [f"{key}={value}"])
        section, name = key.split(".")
        assert getattr(getattr(exp, section), name) == value, key
    with pytest.raises(RunError) as e:
        resume_experiment(trained_run, fams, ["train.seed=9"])
    assert str(e.value) == ("--resume cannot change train.seed (run has 0, asked 9); only "
                            f"{', '.join(sorted(GAN_RESUMABLE))} may change; start a new run to change it")
