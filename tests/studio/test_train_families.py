"""Studio training jobs for every model family: the settings each family's form is built from (GET
/api/train/settings), real music and style jobs that train and leave a model, and refusals in the trainer's
own words (the studio runs the trainer's check, not a copy of it)."""

from __future__ import annotations

import shutil

import pytest
from test_jobs import TINY, jobs_studio, wait_for  # noqa: F401  (jobs_studio is a fixture)

from artforge.io.weights import CONFIG_NAME, load_config
from artforge.studio.jobplan import settings_json
from artforge.training.tasks import families

# Tiny MusicVAE settings as job params (tests/melodies.py's MUSIC_TINY, less what the studio sets itself).
MUSIC_PARAMS = {"embed_dim": 8, "enc_hidden": 16, "dec_hidden": 16, "dec_layers": 1, "model.z_dim": 8,
                "conductor_hidden": 16, "conductor_dim": 8, "batch_size": 8, "eval.every": 0, "val_percent": 20.0}
STYLE_PARAMS = {"px": 48, "batch_size": 2, "styles": 2, "items": 8, "deep_convs": 0}


@pytest.fixture
def midi_folder(jobs_studio, midi_dir):  # noqa: F811
    """The tiny MIDI files, as a folder an owner put in the studio's data dir."""
    shutil.copytree(midi_dir, jobs_studio.settings.data_dir / "midi")
    return "midi"


@pytest.mark.parametrize("family", sorted(families()))
def test_the_settings_of_each_family_are_its_tagged_ones(jobs_studio, family):  # noqa: F811
    viewer = jobs_studio.owner()
    r = viewer.get("/api/train/settings", params={"family": family})
    assert r.status_code == 200, r.text
    assert r.json() == {"family": family, "families": ["gan", "music", "style"], "settings": settings_json(family)}


def test_an_unknown_family_is_refused_with_the_families_named(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.get("/api/train/settings", params={"family": "opera"})
    assert r.status_code == 422 and r.json()["detail"] == ("family: 'opera' is not a model family; choose one of "
                                                           "gan, music, style")
    r = owner.post("/api/jobs", json={"name": "o", "data": "art", "steps": 2, "family": "opera", "params": {}})
    assert r.status_code == 422 and r.json()["detail"].startswith("family: 'opera' is not a model family")


def test_a_setting_of_another_family_is_not_one_of_this_family(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"name": "m", "data": "art", "steps": 2, "family": "music",
                                      "params": {"preset": "tiny"}})
    assert r.status_code == 422 and r.json()["detail"].startswith(
        "params: 'preset' is not a setting a studio job may change; use one of data.bars, ")


def test_a_music_job_trains_a_music_model(jobs_studio, midi_folder):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"name": "tune", "data": midi_folder, "steps": 2, "family": "music",
                                      "params": MUSIC_PARAMS})
    assert r.status_code == 201, r.text
    job = wait_for(owner, r.json()["id"], lambda j: j["state"] in ("done", "failed"))
    assert job["state"] == "done" and job["step"] == 2 and job["model"] == "tune", job
    config = load_config(jobs_studio.settings.runs_dir / "tune" / CONFIG_NAME)
    assert config["family"] == "music" and config["model"]["z_dim"] == 8


def test_a_style_job_trains_a_style_model(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"name": "brush", "data": "builtin", "steps": 1, "family": "style",
                                      "params": STYLE_PARAMS})
    assert r.status_code == 201, r.text
    job = wait_for(owner, r.json()["id"], lambda j: j["state"] in ("done", "failed"), timeout=180)
    assert job["state"] == "done" and job["step"] == 1 and job["model"] == "brush", job
    config = load_config(jobs_studio.settings.runs_dir / "brush" / CONFIG_NAME)
    assert config["family"] == "style" and config["model"]["deep_convs"] == 0


def _trainer_error(cli, capsys, *argv) -> str:
    assert cli("train", *argv) == 2
    lines = [ln for ln in capsys.readouterr().err.replace("\r", "\n").splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("error: ")


@pytest.mark.parametrize("family", ["gan", "music"])
def test_the_studio_refuses_a_bad_batch_in_the_trainers_words(jobs_studio, cli, capsys, tmp_path, midi_dir,
                                                              family):  # noqa: F811
    owner = jobs_studio.owner()
    params = {"gan": TINY, "music": MUSIC_PARAMS}[family]
    r = owner.post("/api/jobs", json={"name": "b", "data": "art", "steps": 2, "family": family,
                                      "params": {**params, "batch_size": 6, "accumulate": 4}})
    data = {"gan": jobs_studio.settings.data_dir / "art", "music": midi_dir}[family]
    settings = [f"{k if '.' in k else _full(family, k)}={v}" for k, v in params.items()]
    said = _trainer_error(cli, capsys, family, data, "--run", tmp_path / "r", "--steps", 2, "train.device=cpu",
                          *settings, "train.batch_size=6", "train.accumulate=4")
    assert said == "train.batch_size=6 must be a multiple of train.accumulate=4 x 1 process(es)"
    assert r.status_code == 422 and r.json()["detail"] == said


def _full(family: str, key: str) -> str:
    (full,) = [s["key"] for s in settings_json(family) if s["key"].endswith(f".{key}")]
    return full


@pytest.mark.parametrize("family, path", [("gan", "builtin"), ("music", "builtin:folk"), ("style", "builtin")])
def test_builtin_data_is_each_familys_own_builtin_set(jobs_studio, family, path):  # noqa: F811
    from artforge.studio.jobplan import plan_train

    queue = jobs_studio.app.state.studio.jobs
    data_path, _ = plan_train(family, queue.settings, queue.store, queue.library, "builtin", {}, 2, None, False)
    assert data_path == path
