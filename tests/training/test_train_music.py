"""Training the music family on real steps: a complete run, learning, exact resume, attributes, DDP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from artforge.config import apply_overrides
from artforge.data.music import load_melodies
from artforge.training.checkpoint import latest_checkpoint, load_checkpoint
from artforge.training.tasks.music import MusicExperiment, MusicTask, free_bits


def test_music_training_names_only_the_folders_it_wrote(cli, midi_dir, tmp_path, music_tiny, capsys):
    run = tmp_path / "run"
    assert cli("train", "music", midi_dir, "--run", run, "--bars", 2, "--steps", 1, *music_tiny) == 0
    done = capsys.readouterr().err.replace("\r", "\n").splitlines()[-1]
    assert done == f"done: 1 steps; model: {run / 'model.safetensors'}"
    assert not (run / "samples").exists()


def test_train_writes_a_complete_music_run(cli, midi_dir, tmp_path, music_tiny):
    run = tmp_path / "run"
    assert cli("train", "music", midi_dir, "--run", run, "--bars", 2, "--steps", 4, "--quiet",
               *music_tiny, "eval.every=2") == 0
    for name in ("train.json", "config.json", "model.safetensors", "manifest.json", "metrics.jsonl",
                 "attributes.safetensors", "eval/accuracy.jsonl"):
        assert (run / name).exists(), name
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["family"] == "music" and cfg["model"]["steps"] == 32 and cfg["model"]["hierarchical"] is False
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["kind"] == "midi" and manifest["counts"]["files"] == 24 and manifest["counts"]["val_windows"] > 0
    acc = [json.loads(line) for line in (run / "eval/accuracy.jsonl").read_text().splitlines()]
    assert [a["step"] for a in acc] == [2, 4] and all(0 <= a["acc_sampled"] <= 1 for a in acc)
    vectors = load_file(str(run / "attributes.safetensors"))
    assert set(vectors) == {"density", "pitch", "range", "stepwise", "latent.mean", "latent.std"} and vectors["pitch"].shape == (8,)


@pytest.fixture(scope="module")
def long_midi(tmp_path_factory):
    """Six 20-bar tunes: long enough for 8- and 16-bar windows (the shared fixture's are 6 bars)."""
    from artforge.io.midi import write_midi
    from melodies import random_walk_melody
    folder = tmp_path_factory.mktemp("long")
    for i in range(6):
        write_midi([random_walk_melody(i, bars=20)], folder / f"t{i}.mid")
    return folder


def test_sixteen_bar_run_can_use_the_token_level_hierarchical_decoder(cli, long_midi, tmp_path, music_tiny):
    run = tmp_path / "run16"
    assert cli("train", "music", long_midi, "--run", run, "--bars", 16, "--steps", 2, "--quiet", *music_tiny,
               "data.val_percent=0", "model.decoder=hierarchical") == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["arch"] == "musicvae" and cfg["model"]["steps"] == 256 and cfg["model"]["hierarchical"] is True


def test_long_melodies_are_played_by_a_trained_two_bar_model(cli, midi_dir, long_midi, tmp_path, music_tiny, capsys):
    from artforge.models.pretrained import from_pretrained
    seg, run = tmp_path / "seg", tmp_path / "run16"
    assert cli("train", "music", midi_dir, "--run", seg, "--bars", 2, "--steps", 2, "--quiet", *music_tiny) == 0
    assert cli("train", "music", long_midi, "--run", run, "--bars", 16, "--steps", 4, "--quiet", *music_tiny,
               f"model.segment_model={seg}", "model.top_hidden=16", "eval.every=2") == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["arch"] == "musicvae-segments" and cfg["model"]["steps"] == 256
    model = from_pretrained(run)
    two_bar = load_file(str(seg / "model.safetensors"))
    for k, v in model.segment.state_dict().items():         # the segment model is used as trained
        assert torch.equal(v, two_bar[k]), k
    assert model.latent_std.ne(1).any(), "the segment latents' statistics were measured"
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("loss/latent" in r for r in logged) and any("val_acc_teacher_forced" in r for r in logged)
    tuned = tmp_path / "tuned"                            # fine-tuning keeps the source's latent statistics
    assert cli("train", "music", long_midi, "--run", tuned, "--bars", 16, "--steps", 1, "--quiet", *music_tiny,
               f"model.segment_model={seg}", "model.top_hidden=16", f"train.init_from={run}", "vae.lr=0") == 0
    assert torch.equal(from_pretrained(tuned).latent_std, model.latent_std)
    out = tmp_path / "out"
    assert cli("music", "sample", run, "-n", 2, "--seed", 1, "--out", out) == 0
    assert len(list(out.glob("*.mid"))) == 2
    # a 16-bar model cannot be built on a model that is not a flat 2-bar one
    capsys.readouterr()
    assert cli("train", "music", long_midi, "--run", tmp_path / "bad", "--bars", 16, "--steps", 1, "--quiet",
               *music_tiny, f"model.segment_model={run}") == 2
    err = capsys.readouterr().err
    assert "model.segment_model" in err and err.count("\n") == 1 and not (tmp_path / "bad").exists()


def test_music_vae_overfits_a_few_melodies(midi_dir):
    """The loss and the loop learn: 8 melodies are reconstructed nearly perfectly after a short run."""
    exp = apply_overrides(MusicExperiment(), [f"data.path={midi_dir}", "data.transpose=0", "data.val_percent=0",
                                              "model.dec_hidden=64", "model.enc_hidden=64", "model.z_dim=32",
                                              "model.dec_layers=1", "vae.kl_warmup=0", "vae.sampling_rampup=0"])
    split = load_melodies(exp.data)
    x = split.train.windows[:8]
    torch.manual_seed(0)
    task = MusicTask(exp)
    vae = task.modules["vae"]
    opt = torch.optim.Adam(vae.parameters(), lr=1e-2)
    for step in range(500):
        loss, logs = task.loss("vae", x, step)
        opt.zero_grad()
        loss.backward()
        opt.step()
    from artforge.metrics.melody import reconstruction
    rec = reconstruction(vae, x)
    assert rec["acc_teacher_forced"] > 0.9 and rec["acc_sampled"] > 0.85, rec


def test_kl_free_bits_and_schedules():
    exp = apply_overrides(MusicExperiment(), ["vae.kl_warmup=100", "vae.beta=0.2", "vae.sampling_rampup=50",
                                              "vae.sampling_max=0.4"])
    task = MusicTask(exp)
    assert task.schedule(0) == (0.0, 0.0)
    assert task.schedule(50) == pytest.approx((0.1, 0.4)) and task.schedule(500) == pytest.approx((0.2, 0.4))
    assert free_bits(exp) == 48.0
    assert free_bits(apply_overrides(MusicExperiment(), ["data.bars=16"])) == 1024.0
    assert free_bits(apply_overrides(MusicExperiment(), ["data.bars=16", "model.decoder=hierarchical"])) == 256.0


def test_resumed_music_run_equals_uninterrupted_run(cli, midi_dir, tmp_path, music_tiny):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("train", "music", midi_dir, "--run", a, "--steps", 6, "--quiet", *music_tiny) == 0
    assert cli("train", "music", midi_dir, "--run", b, "--steps", 3, "--quiet", *music_tiny) == 0
    assert cli("train", "--resume", b, "--steps", 6, "--quiet") == 0
    sa, sb = (load_checkpoint(latest_checkpoint(r)[0]) for r in (a, b))
    for k, v in sa["modules"]["vae"].items():
        assert torch.equal(v, sb["modules"]["vae"][k]), f"{k} differs after resume"


@pytest.mark.distributed
def test_two_process_music_training(midi_dir, tmp_path, music_tiny, subprocess_env):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "artforge", "train", "music", str(midi_dir), "--run-dir", str(run), "--steps", "3", "--quiet",
           *music_tiny]
    proc = subprocess.run(cmd, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = load_checkpoint(latest_checkpoint(run)[0])
    assert state["step"] == 3 and state["nimg"] == 24
    last = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if "loss/recon" in line][-1]
    assert last["world"] == 2 and last["ranks_in_sync"] is True


def test_fine_tune_starts_from_another_models_weights(cli, midi_dir, tmp_path, music_tiny, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("train", "music", midi_dir, "--run", a, "--steps", 3, "--quiet", *music_tiny) == 0
    assert cli("train", "music", midi_dir, "--run", b, "--steps", 1, "--quiet", *music_tiny,
               f"train.init_from={a}", "vae.lr=0") == 0           # lr 0: the weights stay where they started
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert cli("train", "music", midi_dir, "--run", tmp_path / "c", "--steps", 1, "--quiet", *music_tiny,
               f"train.init_from={a}", "model.dec_hidden=24") == 2
    err = capsys.readouterr().err
    assert "train.init_from" in err and "do not fit" in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists(), "a run refused at the start leaves no folder behind"
    # init_partial: a changed architecture keeps the tensors that still fit and starts the others fresh
    assert cli("train", "music", midi_dir, "--run", tmp_path / "d", "--steps", 1, *music_tiny,
               f"train.init_from={a}", "model.dec_hidden=24", "train.init_partial=true", "vae.lr=0") == 0
    out = capsys.readouterr().out
    wd = load_file(str(tmp_path / "d" / "model.safetensors"))
    same = [k for k in wd if k in wa and wd[k].shape == wa[k].shape]
    changed = [k for k in wd if k not in same]
    assert same and changed and all(torch.equal(wd[k], wa[k]) for k in same)
    assert f"{len(same)} of {len(wd)} tensors loaded" in out and changed[0] in out


def test_segment_encodings_are_remembered_between_steps(one_thread):
    exp = apply_overrides(MusicExperiment(), ["data.bars=16", "model.top_hidden=16", "model.z_dim=8"])
    task = MusicTask(exp)
    vae = task.modules["vae"]
    x = torch.randint(2, 90, (3, 256))
    first = task._segment_mu(vae, x)
    assert torch.allclose(first, vae.segment_posterior(x)[0], atol=1e-6) and len(task._latents) == 3
    calls = []
    vae.segment.encoder.register_forward_hook(lambda *a: calls.append(1))
    again = task._segment_mu(vae, torch.cat([x[1:], torch.randint(2, 90, (1, 256))]))
    assert torch.equal(again[:2], first[1:]) and len(calls) == 1 and len(task._latents) == 4
    task.max_cached = 4                                 # full: new melodies are encoded but not kept
    task._segment_mu(vae, torch.randint(2, 90, (2, 256)))
    assert len(task._latents) == 4


def test_a_run_stopped_early_keeps_its_attribute_vectors(midi_dir, tmp_path, music_tiny, subprocess_env):
    """Ctrl-C / SIGTERM: the checkpoint comes with attributes.safetensors, so the folder samples as well
    as a finished one (latent prior and attribute sliders)."""
    import signal
    import time
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "artforge", "train", "music", str(midi_dir), "--run", str(run), "--steps",
           "100000", "--quiet", *music_tiny]
    proc = subprocess.Popen(cmd, env=subprocess_env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ((run / "metrics.jsonl").exists() and (run / "metrics.jsonl").stat().st_size) and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err                  # 128 + SIGTERM, as shells report it
    vectors = load_file(str(run / "attributes.safetensors"))
    assert {"density", "latent.mean", "latent.std"} <= set(vectors)
