"""One declaration per pipeline (pipelines/specs.py) drives the CLI's arguments, the studio's request bodies
and `resolve`: inputs (a model, files, artworks) apart from settings, with no dummy values anywhere."""

from __future__ import annotations

import argparse
import doctest
import subprocess
import sys

import pytest

from artforge.cli.main import build_parser
from artforge.errors import UserError
from artforge.pipelines import specs as S
from artforge.provenance import recipe as recipe_module
from artforge.provenance.recipe import recipe_to_write

# Options every creating verb has beside its pipeline's settings.
VERB_OPTIONS = {"help", "quiet", "debug", "out", "redact", "device", "json", "no_wav", "method", "model", "compare",
                "max_pixels", "vgg19"}


def verb_parser(*words: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def positionals(parser) -> list[str]:
    return [a.dest for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]


def setting_options(parser) -> set[str]:
    return {a.dest for a in parser._actions if a.option_strings and not a.dest.startswith("deprecated_")} - VERB_OPTIONS


def settings(spec) -> set[str]:
    return {p.name for p in spec.params}


def inputs(spec) -> list[str]:
    return [i.name for i in spec.inputs]


@pytest.mark.parametrize("words, spec", [(("generate",), S.GENERATE), (("interpolate",), S.INTERPOLATE),
                                         (("music", "sample"), S.MUSIC_SAMPLE),
                                         (("music", "interpolate"), S.MUSIC_INTERPOLATE),
                                         (("music", "breed"), S.MUSIC_BREED)])
def test_cli_arguments_are_the_declared_inputs_and_settings(words, spec):
    parser = verb_parser(*words)
    assert positionals(parser) == inputs(spec)
    assert setting_options(parser) == settings(spec)


def test_stylize_options_are_every_method_s_settings_for_pictures_and_videos():
    every = set().union(*(settings(s) for s in (S.STYLIZE_OPTIMIZE, S.STYLIZE_ARBITRARY, S.STYLIZE_FAST,
                                                 S.VIDEO_ARBITRARY, S.VIDEO_FAST)))
    assert setting_options(verb_parser("stylize")) == every
    assert "temporal" in every


def test_resolve_checks_settings_only():
    assert set(S.MUSIC_INTERPOLATE.resolve()) == settings(S.MUSIC_INTERPOLATE) == {
        "steps", "temperature", "seed", "attribute", "bpm"}
    assert set(S.MUSIC_BREED.resolve()) == {"children", "mutation", "blend", "temperature", "seed", "bpm"}
    with pytest.raises(UserError, match="music.breed: unknown parameter 'parents'"):
        S.MUSIC_BREED.resolve(parents="a.mid,b.mid")


def test_studio_bodies_are_the_declared_inputs_and_settings():
    from artforge.studio.generation import GenerateBody
    from artforge.studio.routes.music import BreedBody, InterpolateBody, SampleBody

    assert list(InterpolateBody.model_fields) == inputs(S.MUSIC_INTERPOLATE) + [
        p.name for p in S.MUSIC_INTERPOLATE.params if p.name != "attribute"]
    assert list(BreedBody.model_fields) == inputs(S.MUSIC_BREED) + [p.name for p in S.MUSIC_BREED.params]
    assert set(SampleBody.model_fields) == set(inputs(S.MUSIC_SAMPLE)) | settings(S.MUSIC_SAMPLE) - {
        "batch_size", "attribute"} | {"attributes"}
    assert set(GenerateBody.model_fields) == set(inputs(S.GENERATE)) | settings(S.GENERATE) - {"batch_size"}


def test_a_files_input_is_a_list_of_artwork_ids_with_the_declared_count():
    from artforge.studio.routes.music import BreedBody

    parents = BreedBody.model_json_schema()["properties"]["parents"]
    assert (parents["minItems"], parents["maxItems"]) == (S.MUSIC_BREED.inputs[1].min, S.MUSIC_BREED.inputs[1].max)
    assert parents["items"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_the_cli_checks_a_files_input_s_count(cli, tmp_path, capsys):
    assert cli("music", "breed", "starter:melody-2bar", tmp_path / "one.mid", "--out", tmp_path / "o") == 2
    assert capsys.readouterr().err == ("error: parents: give 2 to 8 (two or more melodies (MIDI)), got 1\n")


def test_a_video_s_temporal_is_a_declared_setting():
    assert S.VIDEO_ARBITRARY.resolve()["temporal"] == S.TEMPORAL
    assert S.VIDEO_FAST.replay_params({"params": {"temporal": 0.25, "size": 0}}) == {
        "tile": 1024, "preserve_color": "none", "temporal": 0.25}
    with pytest.raises(UserError, match=r"temporal: 1.5 is out of range \[0.0, 1.0\]"):
        S.VIDEO_ARBITRARY.resolve(temporal=1.5)
    assert "temporal" not in settings(S.STYLIZE_ARBITRARY) and "size" not in settings(S.VIDEO_ARBITRARY)


def test_temporal_on_a_picture_is_refused(cli, tmp_path, capsys):
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(tmp_path / "a.png")
    assert cli("stylize", tmp_path / "a.png", tmp_path / "a.png", "--method", "arbitrary", "--temporal", 0.3,
               "--out", tmp_path / "o.png") == 2
    assert capsys.readouterr().err.startswith("error: --temporal is for videos")
    assert not (tmp_path / "o.png").exists()


def test_declared_names_are_the_torch_modules_names():
    from artforge.data.melody import ATTRIBUTES
    from artforge.losses.style import STYLE_LOSSES

    assert S.STYLE_LOSSES == STYLE_LOSSES and S.MELODY_ATTRIBUTES == tuple(ATTRIBUTES)


def test_every_registered_pipeline_takes_its_declaration():
    from artforge.pipelines import PIPELINES

    assert {name: cls.spec for name, cls in PIPELINES.items()} == S.SPECS


def test_the_declarations_import_neither_torch_nor_numpy():
    code = ("import sys, artforge.pipelines.specs; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]")


# -- --redact: one rule (provenance.recipe.recipe_to_write) -------------------------------------------------
def test_redact_all_writes_no_recipe_and_fields_are_removed():
    recipe = {"pipeline": "generate", "params": {"seed": 3, "n": 1}, "model": {"path": "/x"}}
    assert recipe_to_write(recipe, "all") is None
    assert recipe_to_write(recipe, " all ") is None
    assert recipe_to_write(recipe, "model.path, params.seed") == {
        "pipeline": "generate", "params": {"n": 1}, "model": {}, "redacted": ["model.path", "params.seed"]}
    assert recipe_to_write(recipe, "") is recipe and recipe_to_write(None, "model") is None


def test_recipe_module_examples_run():
    assert doctest.testmod(recipe_module).failed == 0
