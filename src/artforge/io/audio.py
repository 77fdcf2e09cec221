"""Melodies to WAV: a General MIDI soundfont when a synth is installed, a small built-in synth otherwise.

Synths, best first: tinysoundfont (a pip wheel) or fluidsynth (a system library) playing pretty_midi's
bundled General MIDI soundfont TimGM6mb.sf2; else `builtin`, a few harmonics under an ADSR envelope, so
that a WAV always comes out. Output is mono 16-bit PCM, peak-normalised to -1 dBFS, with a short tail so
the last note can ring out.

>>> import tempfile, pathlib, wave
>>> from artforge.io.notes import Note
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a4.wav"
>>> render_wav([Note(69, 0, 8)], path, synth="builtin", sample_rate=8000)
'builtin'
>>> with wave.open(str(path)) as w:
...     w.getframerate(), w.getnframes() == round(8000 * (1.0 + TAIL_S))
(8000, True)
"""

from __future__ import annotations

import importlib
import importlib.util
import wave
from pathlib import Path

import numpy as np

from ..errors import UserError
from .atomic import atomic_save
from .midi import as_event_arrays
from .notes import STEPS_PER_QUARTER, events_to_notes

SYNTHS = ("auto", "tinysoundfont", "fluidsynth", "builtin")
TAIL_S = 0.5            # after the melody ends, for the release of the last note
PEAK = 10 ** (-1 / 20)  # -1 dBFS: loud, with headroom for lossy re-encoding
_FADE_S = 0.005         # builtin synth: every note starts and ends on a ramp this long (no clicks)


def soundfont_path() -> Path:
    """pretty_midi's bundled General MIDI soundfont (TimGM6mb.sf2, about 6 MB)."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or spec.origin is None:
        raise UserError("pretty_midi is not installed; install it (pip install pretty_midi) for its soundfont")
    return Path(spec.origin).parent / "TimGM6mb.sf2"


def available_synths() -> list[str]:
    """The synths that work here, best first; `builtin` always does."""
    out = []
    try:
        importlib.import_module("tinysoundfont")   # a broken wheel fails here, not halfway through a render
        out.append("tinysoundfont")
    except ImportError:
        pass
    if _fluidsynth_ok():
        out.append("fluidsynth")
    return out + ["builtin"]


def render_wav(melody_or_notes, path: str | Path, *, tempo_bpm: float = 120.0, program: int = 0,
               sample_rate: int = 44100, soundfont: str | Path | None = None, synth: str = "auto",
               velocity: int = 90) -> str:
    """Render one melody (event array or list of `Note`s) to a mono 16-bit WAV; returns the synth used.

    `synth="auto"` takes the best of `available_synths()`; naming one that is missing is a UserError.
    """
    (events,) = _one_melody(melody_or_notes)
    if synth not in SYNTHS:
        raise UserError(f"synth must be one of {', '.join(SYNTHS)}, got '{synth}'")
    if not 1 <= tempo_bpm <= 1000 or not 0 <= program <= 127 or not 1 <= velocity <= 127:
        raise UserError(f"tempo_bpm 1..1000, program 0..127 and velocity 1..127 are needed, got "
                        f"{tempo_bpm}, {program}, {velocity}")
    if not 8000 <= sample_rate <= 192000:
        raise UserError(f"sample_rate must be 8000..192000 Hz, got {sample_rate}")
    available = available_synths()
    name = available[0] if synth == "auto" else synth
    if name not in available:
        raise UserError(f"synth '{name}' is not installed here; available: {', '.join(available)}")
    sf2 = Path(soundfont) if soundfont is not None else soundfont_path()
    if name != "builtin" and not sf2.is_file():
        raise UserError(f"soundfont not found: {sf2}")

    step_s = 60.0 / tempo_bpm / STEPS_PER_QUARTER
    notes = [(n.pitch, n.start * step_s, n.end * step_s) for n in events_to_notes(events)]
    n_samples = round(len(events) * step_s * sample_rate) + round(TAIL_S * sample_rate)
    if name == "tinysoundfont":
        audio = _tinysoundfont(notes, n_samples, sample_rate, sf2, program, velocity)
    elif name == "fluidsynth":
        audio = _fluidsynth(notes, sample_rate, sf2, program, velocity)
    else:
        audio = _builtin(notes, n_samples, sample_rate, velocity)
    audio = np.pad(audio, (0, max(0, n_samples - len(audio))))[:n_samples]
    # A soundfont note may still ring when the tail ends: fade it rather than cut it (a cut clicks).
    fade = min(n_samples, round(0.1 * sample_rate))
    audio[n_samples - fade:] *= np.linspace(1, 0, fade)
    atomic_save(path, lambda tmp: _write_pcm16(tmp, _normalise(audio), sample_rate))
    return name


def _one_melody(melody_or_notes) -> list[np.ndarray]:
    melodies = as_event_arrays(melody_or_notes)
    if len(melodies) != 1:
        raise UserError(f"render_wav takes one melody, got {len(melodies)}; join them with io.midi.concat")
    return melodies


def _tinysoundfont(notes, n_samples: int, sr: int, sf2: Path, program: int, velocity: int) -> np.ndarray:
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=sr)
    try:
        sfid = synth.sfload(str(sf2))
        synth.program_select(0, sfid, 0, program)
    except (tinysoundfont.SoundFontException, RuntimeError, OSError) as e:
        raise UserError(f"soundfont {sf2} cannot play program {program} ({e})") from None
    # Our own schedule, rendered chunk by chunk between events: exact to the sample, no Sequencer thread.
    events = sorted([(round(t0 * sr), 1, p) for p, t0, _ in notes] + [(round(t1 * sr), 0, p) for p, _, t1 in notes])
    chunks, now = [], 0
    for at, is_on, pitch in events + [(n_samples, -1, 0)]:
        if at > now:
            chunks.append(np.frombuffer(synth.generate_simple(at - now), dtype=np.float32).copy())
            now = at
        if is_on == 1:
            synth.noteon(0, pitch, velocity)
        elif is_on == 0:
            synth.noteoff(0, pitch)
    stereo = np.concatenate(chunks).reshape(-1, 2) if chunks else np.zeros((0, 2), np.float32)
    return stereo.mean(axis=1).astype(np.float64)


def _fluidsynth(notes, sr: int, sf2: Path, program: int, velocity: int) -> np.ndarray:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(velocity=velocity, pitch=p, start=t0, end=t1) for p, t0, t1 in notes]
    pm.instruments.append(inst)
    return np.asarray(pm.fluidsynth(fs=sr, sf2_path=str(sf2)), dtype=np.float64)


def _builtin(notes, n_samples: int, sr: int, velocity: int) -> np.ndarray:
    """Additive synth: harmonics 1..4 at 1, 1/2, 1/4, 1/8 under attack-decay-sustain-release."""
    out = np.zeros(n_samples)
    attack, decay, sustain, release = 0.01, 0.12, 0.6, 0.15
    for pitch, t0, t1 in notes:
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        start = round(t0 * sr)
        n = min(round((t1 - t0 + release) * sr), n_samples - start)
        if n <= 0:
            continue
        t = np.arange(n) / sr
        wave_ = sum(a * np.sin(2 * np.pi * k * f0 * t) for k, a in zip((1, 2, 3, 4), (1, .5, .25, .125))
                    if k * f0 < sr / 2)
        held = t1 - t0
        env = np.interp(t, [0, attack, attack + decay], [0, 1, sustain])      # rises then settles
        env = np.where(t < held, env, np.interp(held, [0, attack, attack + decay], [0, 1, sustain])
                       * np.clip(1 - (t - held) / release, 0, 1))               # linear release to 0
        fade = np.clip(np.minimum(t, t[-1] - t) / _FADE_S, 0, 1)              # belt and braces at both ends
        out[start:start + n] += (velocity / 127) * wave_ * env * fade
    return out


def _normalise(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * (PEAK / peak) if peak > 0 else audio


def _write_pcm16(tmp: Path, audio: np.ndarray, sr: int) -> None:
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def _fluidsynth_ok() -> bool:
    # pyfluidsynth imports only when the fluidsynth shared library is present; pretty_midi checks the same.
    try:
        from pretty_midi.fluidsynth import _HAS_FLUIDSYNTH
    except ImportError:
        return False
    return bool(_HAS_FLUIDSYNTH)
