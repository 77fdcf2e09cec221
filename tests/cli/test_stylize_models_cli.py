"""`artforge stylize` with trained networks: arbitrary style, a trained style run, videos; `artforge train style`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artforge.io.video import read_video, write_video
from artforge.pipelines.stylize import to_image
from artforge.provenance import read_recipe

from style_runs import make_run
from videos import pan

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def files(tmp_path, art):
    art(1, size=64).save(tmp_path / "photo.png")
    art(2, size=80).save(tmp_path / "style.png")
    write_video([to_image(f) for f in pan(6, 48, 64)], tmp_path / "clip.mp4", 12)
    make_run(tmp_path / "adain", "adain-lite0")
    make_run(tmp_path / "fast", "transform-net")
    return tmp_path


def test_arbitrary_and_fast_write_pngs_that_replay(cli, files, capsys):
    out = files / "a.png"
    assert cli("stylize", files / "photo.png", files / "style.png", "--method", "arbitrary", "--model",
               files / "adain", "--alpha", 0.5, "--size", 48, "--out", out, "--json") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["method"] == "arbitrary" and body["size"] == [48, 48]
    assert read_recipe(out)["pipeline"] == "stylize.arbitrary"
    assert cli("replay", out, "--out", files / "a2.png", "--model", files / "adain", "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True
    out = files / "f.png"                                   # a run folder in place of the style: fast, by itself
    assert cli("stylize", files / "photo.png", files / "fast", "--out", out, "--json") == 0
    assert json.loads(capsys.readouterr().out)["method"] == "fast"
    assert Image.open(out).size == (64, 64) and read_recipe(out)["pipeline"] == "stylize.fast"


@pytest.mark.parametrize("style", ["style.png", "fast"])
def test_flicker_of_a_still_video_is_zero_and_without_blending_both_scores_are_one(cli, files, capsys, style):
    still = files / "still.mp4"
    write_video([to_image(pan(1, 48, 64)[0])] * 6, still, 12)
    extra = ["--model", files / "adain"] if style == "style.png" else []
    scores = {}
    for clip, temporal in (("still", 0.6), ("clip", 0)):
        assert cli("stylize", files / f"{clip}.mp4", files / style, *extra, "--compare", "--temporal", temporal,
                   "--json", "--out", files / f"{clip}-out.mp4") == 0
        body = json.loads(capsys.readouterr().out)
        scores[clip] = body["flicker"], body["flicker_frame_by_frame"]
    # six equal frames: equal stylized frames, a zero flow, nothing to warp (float rounding of the warp only)
    assert scores["still"] == (pytest.approx(0, abs=1e-8), pytest.approx(0, abs=1e-8))
    # temporal 0 writes the frame-by-frame stylization itself: one score, twice
    assert scores["clip"][0] == scores["clip"][1] > 0.01


@pytest.mark.parametrize("style", ["style.png", "fast"])
def test_a_video_keeps_its_frames_and_rate_prints_flicker_and_replays(cli, files, capsys, style):
    out = files / "out.mp4"
    extra = ["--model", files / "adain"] if style == "style.png" else []
    assert cli("stylize", files / "clip.mp4", files / style, *extra, "--compare", "--json", "--out", out) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["frames"] == 6 and body["size"] == [64, 48] and body["fps"] == 12
    # temporal blending (0.6 by default) carries the previous output along the flow: far less flicker
    # (here about 0.02 against 0.19 for the fast net's frames alone)
    assert 0 < body["flicker"] < body["flicker_frame_by_frame"] / 4 and body["processing_fps"] > 0
    frames, fps = read_video(out)
    assert (len(frames), frames[0].size, fps) == (6, (64, 48), 12)
    recipe = read_recipe(out)
    assert recipe["output"] == "video" and recipe["parents"][0]["kind"] == "video"
    model = files / "adain" if style == "style.png" else files / "fast"
    assert cli("replay", out, "--out", files / "again.mp4", "--model", model, "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True


@pytest.mark.parametrize("case", ["gan_run", "alpha_for_fast", "optimize_video", "png_for_video", "size_video",
                                  "bad_video", "not_a_run"])
def test_bad_requests_are_one_line(cli, files, capsys, case):
    argv = {
        "gan_run": ["stylize", files / "photo.png", files / "style.png", "--method", "arbitrary", "--model",
                    "starter", "--out", files / "x.png"],
        "alpha_for_fast": ["stylize", files / "photo.png", files / "fast", "--alpha", 0.5, "--out", files / "x.png"],
        "optimize_video": ["stylize", files / "clip.mp4", files / "style.png", "--method", "optimize",
                           "--out", files / "x.mp4"],
        "png_for_video": ["stylize", files / "clip.mp4", files / "fast", "--out", files / "x.png"],
        "size_video": ["stylize", files / "clip.mp4", files / "fast", "--size", 32, "--out", files / "x.mp4"],
        "bad_video": ["stylize", files / "junk.mp4", files / "fast", "--out", files / "x.mp4"],
        "not_a_run": ["stylize", files / "photo.png", files / "style.png", "--method", "fast",
                      "--out", files / "x.png"],
    }[case]
    (files / "junk.mp4").write_bytes(b"not a video at all")
    assert cli(*argv) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (files / "x.png").exists() and not (files / "x.mp4").exists()


def test_train_style_fast_and_arbitrary_make_loadable_models(cli, files, tmp_path, art):
    content = tmp_path / "content"
    content.mkdir()
    for i in range(3):
        art(10 + i, size=72).save(content / f"c{i}.png")
    common = ["--steps", "2", "data.px=48", "train.batch_size=2", "train.sample_every=2", "--quiet"]
    assert cli("train", "style", files / "style.png", "--run", tmp_path / "r1", "data.content=" + str(content),
               "model.widths=4,8,8", "model.res_blocks=1", *common) == 0
    assert json.loads((tmp_path / "r1" / "config.json").read_text())["arch"] == "transform-net"
    assert (tmp_path / "r1" / "samples" / "latest.png").is_file()
    assert cli("stylize", files / "photo.png", tmp_path / "r1", "--out", tmp_path / "t.png") == 0
    styles = tmp_path / "styles"
    styles.mkdir()
    for i in range(2):
        art(20 + i, size=72).save(styles / f"s{i}.png")
    assert cli("train", "style", styles, "--run", tmp_path / "r2", "data.content=" + str(content),
               "model.widths=8,8,16", *common) == 0
    assert json.loads((tmp_path / "r2" / "config.json").read_text())["arch"] == "adain-lite0"
    assert cli("stylize", files / "photo.png", files / "style.png", "--method", "arbitrary", "--model",
               tmp_path / "r2", "--size", 48, "--out", tmp_path / "u.png") == 0


def test_the_shipped_arbitrary_network_is_the_default_and_replays_without_model(cli, files, capsys):
    out = files / "s.png"
    assert cli("stylize", files / "photo.png", files / "style.png", "--method", "arbitrary", "--size", 64,
               "--out", out) == 0
    recipe = read_recipe(out)
    assert recipe["model"]["name"] == "starter:style-arbitrary" and recipe["model"]["arch"] == "adain-lite0"
    capsys.readouterr()
    assert cli("replay", out, "--out", files / "s2.png", "--json") == 0        # found by its hash
    assert json.loads(capsys.readouterr().out)["identical"] is True
    # a trained network, not a flat colour: the result follows the photograph's edges
    a = np.asarray(Image.open(out).convert("L"), np.float64)
    assert a.std() > 10
