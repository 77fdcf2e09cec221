"""What the CLI says when something is wrong: one clear line each, never a Python exception's own text.

(Issue 26: NaN parameters, models of the wrong family, errors that fell to the catch-all, misleading messages.)
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from artforge.errors import UserError
from artforge.models.pretrained import starter_dir
from artforge.pipelines import ArbitraryStylePipeline, GeneratePipeline, MusicSamplePipeline
from artforge.provenance import read_recipe
from artforge.provenance.recipe import dumps
from artforge.provenance.write import save_image


def _err(capsys) -> str:
    return capsys.readouterr().err


# -- 1. non-finite floats -------------------------------------------------------------------------------
@pytest.mark.parametrize("pipe, name", [(GeneratePipeline, "truncation"), (ArbitraryStylePipeline, "alpha"),
                                        (MusicSamplePipeline, "temperature")])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), "-inf", "NaN"])
def test_every_declared_float_refuses_non_finite_values(pipe, name, value):
    with pytest.raises(UserError) as e:
        pipe.resolve(**{name: value})
    assert str(e.value) == f"{name}: expected a finite number, got {value}"


def test_generate_truncation_nan_is_one_line_and_writes_nothing(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 1, "--truncation", "nan", "--out", tmp_path / "o") == 2
    assert _err(capsys) == "error: truncation: expected a finite number, got nan\n"
    assert not (tmp_path / "o").exists()


def test_recipes_are_strict_json():
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"pipeline": "generate", "params": {"truncation": float("nan")}})


def test_a_recipe_holding_nan_is_reported_as_damaged(cli, tmp_path, capsys):
    path = tmp_path / "nan.png"
    _png_with_text(path, 4, 4, '{"pipeline": "generate", "params": {"truncation": NaN}}')
    assert cli("recipe", path) == 2
    assert _err(capsys) == f"error: {path} has a damaged artforge recipe (not valid JSON: NaN)\n"


# -- 2. a model of the wrong family ---------------------------------------------------------------------
def test_generate_with_a_melody_model_names_the_family_and_the_verb(cli, tmp_path, capsys):
    assert cli("generate", "starter:melody-2bar", "-n", 1, "--out", tmp_path / "o") == 2
    assert _err(capsys) == ("error: starter:melody-2bar is a music model; generate needs a GAN (a run from "
                            "'artforge train gan'); for melodies use: artforge music sample starter:melody-2bar "
                            "--out DIR\n")


def test_interpolate_with_a_style_model_names_the_family_and_the_verb(cli, tmp_path, capsys):
    assert cli("interpolate", "starter:style-arbitrary", "--out", tmp_path / "o.gif") == 2
    assert _err(capsys) == ("error: starter:style-arbitrary is a style model; interpolate needs a GAN (a run from "
                            "'artforge train gan'); to paint a picture in a style use: artforge stylize PICTURE "
                            "STYLE.jpg --method arbitrary --model starter:style-arbitrary --out OUT.png\n")


# -- 3. errors that used to fall to the catch-all --------------------------------------------------------
def _unwritable_dir(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores permission bits: /sys refuses it too)."""
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        return d
    return Path("/sys/fs")


def test_a_read_only_output_folder_is_one_line_without_temp_names(cli, tmp_path, capsys):
    ro = _unwritable_dir(tmp_path)
    assert cli("generate", "starter", "-n", 1, "--out", ro) == 2
    assert _err(capsys) == f"error: cannot write {ro / 'seed0.png'}: permission denied (choose a folder you can " \
                           "write to)\n"


def test_a_cuda_device_that_is_not_there(cli, tmp_path, capsys):
    import torch
    if torch.cuda.is_available():                  # one past the last GPU
        k = torch.cuda.device_count()
        device, why = f"cuda:{k}", f"this machine has {k} CUDA GPU(s): cuda:0 to cuda:{k - 1}"
    else:
        device, why = "cuda", f"this PyTorch cannot use a CUDA GPU here (torch {torch.__version__})"
    assert cli("generate", "starter", "-n", 1, "--device", device, "--out", tmp_path / "o") == 2
    assert _err(capsys) == (f"error: device '{device}': {why}; use --device cpu, or auto to take a GPU when "
                            "there is one\n")


def test_a_bad_device_string(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 1, "--device", "gpu0", "--out", tmp_path / "o") == 2
    assert _err(capsys) == "error: device 'gpu0' is not a device; give auto, cpu, cuda, cuda:N or mps\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_with_text(path: Path, w: int, h: int, text: str, compressed: bool = False) -> None:
    """A 1-bit grey PNG of w x h px (all black) with `text` as its artforge.recipe iTXt chunk."""
    row = b"\0" * (1 + (w + 7) // 8)
    body = zlib.compress(text.encode()) if compressed else text.encode()
    itxt = b"artforge.recipe\0" + (b"\1\0" if compressed else b"\0\0") + b"\0\0" + body
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
           + _chunk(b"iTXt", itxt) + _chunk(b"IDAT", zlib.compress(row * h, 1)) + _chunk(b"IEND", b""))
    path.write_bytes(png)


def test_recipe_of_a_huge_png_is_read_without_decoding_it(cli, tmp_path, capsys):
    path = tmp_path / "huge.png"
    _png_with_text(path, 20000, 20000, '{"pipeline": "generate", "params": {"seed": 3}}')
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)                           # what Pillow thinks of it
    assert cli("recipe", path) == 0
    assert json.loads(capsys.readouterr().out) == {"params": {"seed": 3}, "pipeline": "generate"}


def test_recipe_over_pillows_text_limit_is_read(cli, tmp_path, capsys):
    path = tmp_path / "long.png"
    recipe = {"pipeline": "generate", "params": {"note": "a" * 2_000_000}}
    _png_with_text(path, 4, 4, json.dumps(recipe), compressed=True)
    assert cli("recipe", path) == 0
    assert json.loads(capsys.readouterr().out) == recipe


def test_a_recipe_chunk_that_inflates_without_end_is_refused(cli, tmp_path, capsys):
    path = tmp_path / "bomb.png"
    _png_with_text(path, 4, 4, '{"a": "' + "a" * 40_000_000 + '"}', compressed=True)
    assert cli("recipe", path) == 2
    assert _err(capsys) == (f"error: {path}: its artforge.recipe text is over 16 MiB, far more than any recipe; "
                            "it is not read\n")


def _generated(cli, trained_run, tmp_path) -> Path:
    assert cli("generate", trained_run, "-n", 1, "--out", tmp_path / "g", "--quiet") == 0
    return tmp_path / "g" / "seed0.png"


@pytest.mark.parametrize("key, value, kind", [("params", [1, 2], "a list"), ("model", "starter", "a string"),
                                              ("pipeline", 7, "a number")])
def test_replay_of_a_recipe_with_a_field_of_the_wrong_type(cli, trained_run, tmp_path, capsys, key, value, kind):
    src = _generated(cli, trained_run, tmp_path)
    recipe = read_recipe(src) | {key: value}
    save_image(Image.open(src), tmp_path / "edited.png", recipe)
    capsys.readouterr()
    assert cli("replay", tmp_path / "edited.png", "--out", tmp_path / "again.png") == 2
    want = {"params": "an object", "model": "an object", "pipeline": "a string"}[key]
    assert _err(capsys) == (f"error: {tmp_path / 'edited.png'}: the recipe's '{key}' is {kind}, not {want}; "
                            "the recipe was edited or damaged, so it cannot be replayed\n")


def test_recipe_piped_into_head_exits_quietly(tmp_path, subprocess_env):
    import subprocess
    import sys

    path = tmp_path / "long.png"
    _png_with_text(path, 4, 4, json.dumps({"pipeline": "generate", "params": {"k": ["x"] * 100_000}}))
    proc = subprocess.Popen([sys.executable, "-m", "artforge", "recipe", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=subprocess_env)
    assert proc.stdout.readline() == b"{\n"
    proc.stdout.close()                            # what `| head -1` does: the rest has nowhere to go
    err = proc.stderr.read()
    assert (proc.wait(), err) == (141, b"")


# -- 4. misleading messages -----------------------------------------------------------------------------
def test_recipe_of_a_folder(cli, tmp_path, capsys):
    assert cli("recipe", tmp_path) == 2
    assert _err(capsys) == f"error: {tmp_path} is a folder; give a file (PNG, GIF, MP4 or MIDI)\n"


def test_stylize_content_that_is_a_folder(cli, tmp_path, art, capsys):
    art(2, size=80).save(tmp_path / "style.png")
    (tmp_path / "photos").mkdir()
    assert cli("stylize", tmp_path / "photos", tmp_path / "style.png", "--out", tmp_path / "o.png") == 2
    assert _err(capsys) == f"error: {tmp_path / 'photos'} is a folder; give the content image's file\n"


def test_config_file_that_is_a_folder(cli, tmp_path, capsys):
    assert cli("train", "gan", tmp_path, "--run", tmp_path / "run", "--config", tmp_path) == 2
    assert _err(capsys) == f"error: {tmp_path} is a folder; give a config file (.toml)\n"


def test_a_config_section_with_a_typo_suggests_the_section(cli, tmp_path, capsys):
    (tmp_path / "c.toml").write_text("[gann]\nada = false\n")
    assert cli("train", "gan", tmp_path, "--run", tmp_path / "run", "--config", tmp_path / "c.toml") == 2
    assert _err(capsys) == f"error: unknown config section [gann] in {tmp_path / 'c.toml'}; did you mean [gan]?\n"


def test_weights_whose_header_names_another_tensor(cli, tmp_path, capsys):
    model = tmp_path / "m"
    shutil.copytree(starter_dir(), model)
    weights = model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    i = data.index(b'"seed.1.num_batches_tracked"')
    data[i + 4] = ord("X")                         # one letter of one tensor name
    weights.write_bytes(bytes(data))
    assert cli("generate", model, "-n", 1, "--out", tmp_path / "o") == 2
    assert _err(capsys) == (f"error: {weights} does not match {model / 'config.json'}: missing "
                            "seed.1.num_batches_tracked; unexpected seeX.1.num_batches_tracked (the weights file is "
                            "damaged or belongs to another model: retrain or restore it from a backup)\n")


def test_replay_of_a_file_whose_params_were_redacted(cli, trained_run, tmp_path, capsys):
    assert cli("generate", trained_run, "-n", 1, "--out", tmp_path / "g", "--redact", "params", "--quiet") == 0
    src = tmp_path / "g" / "seed0.png"
    assert cli("replay", src, "--out", tmp_path / "again.png") == 2
    assert _err(capsys) == (f"error: {src}: its recipe's params were left out when it was written (--redact "
                            "params), so it cannot be replayed\n")

