"""File formats: images with recipes, video, safetensors weights, atomic writes; the melody event encoding
(notes.py) that MIDI, WAV and piano rolls are written from."""
