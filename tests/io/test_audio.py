"""WAV rendering: right rate and length, audible, never clipped, the right pitch, with either synth."""

from __future__ import annotations

import importlib.util
import sys
import wave

import numpy as np
import pytest

from artforge.data.melody import Note, notes_to_events
from artforge.errors import UserError
from artforge.io.audio import PEAK, TAIL_S, available_synths, render_wav, soundfont_path

HAS_TSF = importlib.util.find_spec("tinysoundfont") is not None
SYNTHS = [pytest.param("tinysoundfont", marks=pytest.mark.skipif(not HAS_TSF, reason="tinysoundfont missing")),
          "builtin"]
TUNE = notes_to_events([Note(60, 0, 4), Note(64, 4, 8), Note(67, 8, 12), Note(72, 12, 14)], 16)


def _read(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768, w.getframerate()


@pytest.mark.parametrize("synth", SYNTHS)
@pytest.mark.parametrize("tempo_bpm,sample_rate", [(120.0, 44100), (90.0, 22050)])
def test_wav_has_rate_length_sound_and_no_clipping(tmp_path, synth, tempo_bpm, sample_rate):
    used = render_wav(TUNE, tmp_path / "t.wav", tempo_bpm=tempo_bpm, sample_rate=sample_rate, synth=synth)
    assert used == synth
    x, sr = _read(tmp_path / "t.wav")
    assert sr == sample_rate
    melody_s = len(TUNE) * 60 / tempo_bpm / 4
    assert len(x) / sr == pytest.approx(melody_s + TAIL_S, abs=1e-3)
    assert np.abs(x).max() == pytest.approx(PEAK, abs=2e-3)          # normalised, below full scale
    assert np.sqrt(np.mean(x[: int(melody_s * sr)] ** 2)) > 0.05      # plainly audible
    assert abs(x[-1]) < 1e-3                                          # ends in silence, no click


@pytest.mark.parametrize("synth", SYNTHS)
def test_a4_sounds_at_440_hz(tmp_path, synth):
    render_wav([Note(69, 0, 16)], tmp_path / "a4.wav", synth=synth)   # two seconds of A4 at 120 bpm
    x, sr = _read(tmp_path / "a4.wav")
    seg = x[int(0.2 * sr):int(1.8 * sr)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / sr)
    assert freqs[spectrum.argmax()] == pytest.approx(440, abs=5)


def _onset_jumps(x: np.ndarray, sr: int, onsets_s: list[float]) -> list[float]:
    """At each onset, the largest sample-to-sample step near it over the largest once the note sounds."""
    d = np.abs(np.diff(x))
    out = []
    for t in onsets_s:
        s = round(t * sr)
        near = d[max(0, s - sr // 500):s + sr // 500].max()
        steady = d[s + sr // 20:s + sr // 10].max()
        out.append(near / steady)
    return out


def test_builtin_notes_start_and_stop_without_clicks(tmp_path):
    render_wav(TUNE, tmp_path / "t.wav", synth="builtin")
    x, sr = _read(tmp_path / "t.wav")
    onsets = [0.0, 0.5, 1.0, 1.5]                     # a note every quarter at 120 bpm
    # A note that fades in never steps harder at its onset than while it sounds; a click does.
    assert max(_onset_jumps(x, sr, onsets)) < 1.0
    clicked = x.copy()
    clicked[sr // 2:] += 0.3 * np.sin(2 * np.pi * 300 * np.arange(len(x) - sr // 2) / sr + 1.2)
    assert max(_onset_jumps(clicked, sr, onsets)) > 1.5  # the check does see a click
    assert abs(x[0]) < 1e-3


def test_auto_picks_the_best_available_and_silence_stays_silent(tmp_path):
    assert render_wav(TUNE, tmp_path / "a.wav") == available_synths()[0]
    render_wav(np.zeros(8, dtype=np.int64), tmp_path / "s.wav", synth="builtin")
    x, _ = _read(tmp_path / "s.wav")
    assert not x.any()


def test_soundfont_is_bundled_and_errors_are_user_errors(tmp_path):
    assert soundfont_path().is_file() and soundfont_path().suffix == ".sf2"
    with pytest.raises(UserError, match="synth must be one of"):
        render_wav(TUNE, tmp_path / "x.wav", synth="moog")
    with pytest.raises(UserError, match="one melody"):
        render_wav([TUNE, TUNE], tmp_path / "x.wav")
    if HAS_TSF:
        with pytest.raises(UserError, match="soundfont not found"):
            render_wav(TUNE, tmp_path / "x.wav", synth="tinysoundfont", soundfont=tmp_path / "none.sf2")
    if "fluidsynth" not in available_synths():
        with pytest.raises(UserError, match="not installed"):
            render_wav(TUNE, tmp_path / "x.wav", synth="fluidsynth")
    assert not (tmp_path / "x.wav").exists()


def test_without_tinysoundfont_a_wav_still_comes_out(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tinysoundfont", None)     # import now fails
    assert "tinysoundfont" not in available_synths()
    used = render_wav(TUNE, tmp_path / "t.wav")
    assert used in ("fluidsynth", "builtin") and _read(tmp_path / "t.wav")[0].any()
    with pytest.raises(UserError, match="not installed"):
        render_wav(TUNE, tmp_path / "x.wav", synth="tinysoundfont")
