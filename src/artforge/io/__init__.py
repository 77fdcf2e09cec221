"""File formats: images with recipes, video, safetensors weights, atomic writes."""
