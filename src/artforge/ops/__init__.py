"""Low-level tensor operations that several layers share, importing nothing else of artforge.

models, losses and features sit side by side and do not import one another (see tests/test_layering.py);
what two of them need lives here:

- `stats`: per-channel mean and standard deviation of feature maps, grid subsampling of big maps
  (AdaIN in models/stylenet.py, style statistics in losses/style.py, colour matching in pipelines).
- `fused`: convolution and activation in one oneDNN pass for CPU inference (features, models).
- `melody`: token accuracy and the reconstruction accuracy of a melody autoencoder (measured while
  training by training/tasks/music.py and in the report by metrics/).
"""
