"""The built-in corpora: the shipped parse of the folk tunes (equal to parsing its sources, the data the
shipped melody models were trained on, no music21 needed) and the per-file cache of a corpus still parsed."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from artforge.data import corpus as corpus_mod
from artforge.data.corpus import (corpus_manifest_files, load_corpus, parse_corpus, read_shipped, shipped_path,
                                  source_manifest_files)
from artforge.data.music import MusicDataConfig, manifest_sha256
from artforge.errors import DataError
from artforge.models.pretrained import music_starter_dir

# Small files from four of the five folk collections (parsing them takes a few seconds).
SAMPLE = ["essenFolksong/teste.abc", "ryansMammoth/PaddyMilesFricasseeReel.abc", "oneills1850/0731-0731.abc",
          "nottingham-dataset/reelsa-c.abc"]


@pytest.fixture
def no_music21(monkeypatch):
    monkeypatch.setitem(sys.modules, "music21", None)          # `import music21` now raises ImportError


@pytest.fixture
def in_process(monkeypatch):
    """Parsing in threads of this process, so monkeypatched functions are the ones that run."""
    monkeypatch.setattr(corpus_mod, "ProcessPoolExecutor", lambda workers: ThreadPoolExecutor(1))


def test_shipped_folk_tunes_equal_parsing_their_source_files():
    pytest.importorskip("music21")
    tunes, files = read_shipped("folk")
    root = corpus_mod.corpus_root()
    for rel in SAMPLE:
        parsed = [(f"{rel}#{i}:{title}", ev) for i, title, ev in corpus_mod._parse_file(str(root / rel))]
        shipped = [(n, ev) for n, ev in tunes if n.partition("#")[0] == rel]
        assert [n for n, _ in shipped] == [n for n, _ in parsed] and len(parsed) > 0, rel
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(shipped, parsed)), rel


def test_shipped_folk_lists_the_installed_music21_files():
    pytest.importorskip("music21")
    assert read_shipped("folk")[1] == source_manifest_files("folk")


def test_shipped_folk_is_what_the_shipped_melody_models_were_trained_on(no_music21):
    files = corpus_manifest_files("folk")
    for name, bars in (("starter:melody-2bar", 2), ("starter:melody-16bar", 16)):
        cfg = MusicDataConfig(bars=bars)
        pre = {"bars": bars, "hop_bars": 1, "steps_per_bar": 16, "val_percent": cfg.val_percent, "max_files": 0}
        config = json.loads((music_starter_dir(name) / "config.json").read_text())
        assert manifest_sha256({"files": files, "preprocessing": pre}) == config["dataset"]["manifest_sha256"]


def test_shipped_folk_loads_without_music21_and_keeps_the_first_files_tunes(no_music21, tmp_path):
    tunes = load_corpus("folk", tmp_path, progress=False, max_files=3)
    first3 = {f["path"] for f in corpus_manifest_files("folk")[:3]}
    assert {n.partition("#")[0] for n, _ in tunes} == first3
    assert [n for n, _ in tunes] == [n for n, _ in read_shipped("folk")[0] if n.partition("#")[0] in first3]
    assert not (tmp_path / "music").exists()                    # nothing parsed, nothing cached


def test_shipped_corpus_is_small():
    assert shipped_path("folk").stat().st_size < 3 * 2**20


def test_a_damaged_shipped_corpus_is_one_clear_error(tmp_path):
    bad = tmp_path / "folk.npz"
    bad.write_bytes(shipped_path("folk").read_bytes()[:5000])
    with pytest.raises(DataError, match=f"^the shipped corpus {bad} is damaged; reinstall artforge$"):
        read_shipped("folk", bad)


def test_an_interrupted_parse_keeps_every_file_it_finished(tmp_path, monkeypatch, in_process):
    pytest.importorskip("music21")
    written = []
    real_write = corpus_mod._write_part

    def write_then_interrupt(path, found):
        if written:
            raise KeyboardInterrupt                             # Ctrl-C after the first file was cached
        written.append(path)
        real_write(path, found)

    monkeypatch.setattr(corpus_mod, "_write_part", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        parse_corpus("chorales", tmp_path, progress=False, max_files=3)
    parts = list((tmp_path / "music").glob("parts-*/*.safetensors"))
    assert parts == written and not list((tmp_path / "music").glob("chorales-*"))


def test_a_resumed_parse_reads_only_the_files_not_cached_yet(tmp_path, monkeypatch, in_process):
    pytest.importorskip("music21")
    whole = parse_corpus("chorales", tmp_path / "once", progress=False, max_files=3)
    parts = sorted((tmp_path / "once" / "music").glob("parts-*/*.safetensors"))
    (tmp_path / "again" / "music" / parts[0].parent.name).mkdir(parents=True)
    parts[1].rename(tmp_path / "again" / "music" / parts[1].parent.name / parts[1].name)   # one file was done
    calls = []
    real_parse = corpus_mod._parse_file
    monkeypatch.setattr(corpus_mod, "_parse_file", lambda path: calls.append(path) or real_parse(path))
    again = parse_corpus("chorales", tmp_path / "again", progress=False, max_files=3)
    assert len(calls) == 2
    assert [n for n, _ in again] == [n for n, _ in whole]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(again, whole))


def test_progress_counts_bytes_biggest_file_first(tmp_path, monkeypatch, in_process):
    """The ETA is right only if progress is weighed by the work: files differ 300-fold in size."""
    pytest.importorskip("music21")
    bars = []

    class Recorder:
        def __init__(self, total, **kwargs):
            self.total, self.steps = total, []
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            self.steps.append(n)

        def set_postfix_str(self, *a, **k):
            pass

    monkeypatch.setattr(corpus_mod, "tqdm", Recorder)
    parse_corpus("chorales", tmp_path, progress=True, max_files=3)
    sizes = sorted((p.stat().st_size for p in corpus_mod.corpus_files("chorales")[:3]), reverse=True)
    cost = [s + corpus_mod.FILE_COST_BYTES for s in sizes]
    assert len(bars) == 1 and bars[0].total == sum(cost) and bars[0].steps == cost
