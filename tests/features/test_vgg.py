"""A user's VGG19 file: both formats load alike, taps sit at torchvision's layers, bad files are one line."""

from __future__ import annotations

import pathlib

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from vgg_files import WIDTHS, tiny_vgg19_state, write_tiny_vgg19

from artforge.errors import UserError
from artforge.features.vgg import CONTENT_LAYERS, LAYERS, STYLE_LAYERS, VGGTaps, layer_stride, load_vgg19

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("vgg")
    return {"safetensors": write_tiny_vgg19(root / "tiny.safetensors"), "pth": write_tiny_vgg19(root / "tiny.pth")}


@pytest.fixture(scope="module")
def net(files):
    return load_vgg19(files["safetensors"])


def image(h=48, w=64, seed=1):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_safetensors_and_pth_give_identical_activations(files, net):
    other = load_vgg19(files["pth"])
    names = STYLE_LAYERS + CONTENT_LAYERS
    a, b = VGGTaps(net, names)(image()), VGGTaps(other, names)(image())
    assert all(torch.equal(a[k], b[k]) for k in names)
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert net.widths == list(WIDTHS)                                       # inferred from the file


def test_taps_have_the_widths_and_strides_of_their_stage(net):
    names = ("conv1_1", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1", "relu5_4", "pool5")
    got = VGGTaps(net, names)(image(48, 64))
    assert list(got) == list(names)
    want = {"conv1_1": (4, 1), "relu1_1": (4, 1), "relu2_1": (8, 2), "relu3_1": (8, 4), "relu4_1": (16, 8),
            "relu4_2": (16, 8), "relu5_1": (16, 16), "relu5_4": (16, 16), "pool5": (16, 32)}
    for name, (c, stride) in want.items():
        assert tuple(got[name].shape) == (1, c, 48 // stride, 64 // stride), name
        assert layer_stride(name) == stride
    assert float(got["conv1_1"].min()) < 0 <= float(got["relu1_1"].min())    # the conv tap is before its ReLU
    assert [LAYERS[f"conv{i}_1"] for i in range(1, 6)] == [0, 5, 10, 19, 28]   # torchvision's numbering
    assert [LAYERS[f"pool{i}"] for i in range(1, 6)] == [4, 9, 18, 27, 36]


def test_activations_equal_a_hand_built_network(net):
    state = tiny_vgg19_state()                                      # the weights in the `net` fixture's file

    def conv(i):
        c_out, c_in = state[f"features.{i}.weight"].shape[:2]
        return nn.Conv2d(c_in, c_out, 3, padding=1)

    # relu3_1 is features.11: conv relu conv relu pool | conv relu conv relu pool | conv relu
    ref = nn.Sequential(conv(0), nn.ReLU(), conv(2), nn.ReLU(), nn.MaxPool2d(2), conv(5), nn.ReLU(), conv(7),
                        nn.ReLU(), nn.MaxPool2d(2), conv(10), nn.ReLU())
    ref.load_state_dict({k.removeprefix("features."): v for k, v in state.items() if int(k.split(".")[1]) <= 10})
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = image()
    with torch.no_grad():
        want = ref((x - mean) / std)                                # (1, 8, 12, 16)
    assert want.shape == (1, 8, 12, 16)
    assert torch.allclose(VGGTaps(net, ["relu3_1"])(x)["relu3_1"], want, atol=1e-6)


def test_runs_only_up_to_the_deepest_tap_and_passes_gradients(net):
    ran = []
    hooks = [m.register_forward_hook(lambda m, i, o, k=k: ran.append(k)) for k, m in enumerate(net.features)]
    try:
        x = image().requires_grad_(True)
        out = VGGTaps(net, ["relu2_1", "relu1_1"])(x)
    finally:
        for h in hooks:
            h.remove()
    assert ran == list(range(LAYERS["relu2_1"] + 1)) and list(out) == ["relu2_1", "relu1_1"]
    out["relu2_1"].pow(2).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_unknown_layer_lists_the_valid_ones(net):
    with pytest.raises(ValueError, match=r"unknown VGG19 layer\(s\) \['relu6_1'\]; layers are: conv1_1, relu1_1"):
        VGGTaps(net, ["relu1_1", "relu6_1"])
    with pytest.raises(ValueError, match="none given"):
        VGGTaps(net, [])


def test_average_pooling_changes_only_what_follows_a_pool(net):
    names = ("relu1_2", "relu2_1")
    mx, av = VGGTaps(net, names)(image()), VGGTaps(net, names, pool="avg")(image())
    assert torch.equal(mx["relu1_2"], av["relu1_2"])
    assert mx["relu2_1"].shape == av["relu2_1"].shape and not torch.equal(mx["relu2_1"], av["relu2_1"])


def test_classifier_keys_module_prefix_and_state_dict_wrapper_are_accepted(tmp_path, net):
    state = tiny_vgg19_state()
    full = {f"module.{k}": v for k, v in state.items()}
    full |= {"module.classifier.0.weight": torch.randn(10, 16), "module.classifier.6.bias": torch.randn(10)}
    torch.save({"state_dict": full, "epoch": 90}, tmp_path / "wrapped.pt")
    save_file({k: v for k, v in state.items()} | {"classifier.0.weight": torch.randn(10, 16)},
              str(tmp_path / "with-head.safetensors"))
    x = image()
    want = VGGTaps(net, ["relu5_1"])(x)["relu5_1"]
    for name in ("wrapped.pt", "with-head.safetensors"):
        assert torch.equal(VGGTaps(load_vgg19(tmp_path / name), ["relu5_1"])(x)["relu5_1"], want), name


class _Touch:
    """Unpickling this would create a file: proof that the loader never runs pickled code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def _bad_file(tmp_path, case):
    state = tiny_vgg19_state()
    if case == "missing_file":
        return tmp_path / "nope.pth"
    if case == "missing_key":
        del state["features.34.bias"]
        return write_tiny_vgg19(tmp_path / "missing-key.safetensors", state=state)
    if case == "extra_key":
        state["features.36.weight"] = torch.zeros(1)
        return write_tiny_vgg19(tmp_path / "extra-key.pth", state=state)
    if case == "vgg16":                                   # 13 convs at other indices
        vgg16 = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
        state = {f"features.{i}.{p}": torch.zeros(4, 4, 3, 3) if p == "weight" else torch.zeros(4)
                 for i in vgg16 for p in ("weight", "bias")}
        return write_tiny_vgg19(tmp_path / "vgg16.safetensors", state=state)
    if case == "not_vgg":
        return write_tiny_vgg19(tmp_path / "resnet.safetensors", state={"conv1.weight": torch.zeros(8, 3, 7, 7)})
    if case == "rank":
        state["features.5.weight"] = state["features.5.weight"][:, :, 0]
        return write_tiny_vgg19(tmp_path / "rank.pth", state=state)
    if case == "channels":
        state["features.7.weight"] = torch.zeros(8, 5, 3, 3)
        return write_tiny_vgg19(tmp_path / "channels.pth", state=state)
    if case in ("text", "junk"):
        (tmp_path / f"{case}.pth").write_text("these are not weights" if case == "text" else "x")
        return tmp_path / f"{case}.pth"
    if case == "bad_safetensors":
        (tmp_path / "junk.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{junk}")
        return tmp_path / "junk.safetensors"
    if case == "suffix":
        return write_tiny_vgg19(tmp_path / "vgg19.ckpt", state=state)
    if case == "pickle":
        state["features.0.weight"] = _Touch(tmp_path / "PWNED")
        torch.save(state, tmp_path / "evil.pth")
        return tmp_path / "evil.pth"
    raise AssertionError(case)


@pytest.mark.parametrize("case, says", [
    ("missing_file", "VGG19 weights not found"), ("missing_key", "missing features.34.bias"),
    ("extra_key", "unexpected features.36.weight"), ("vgg16", "not VGG19 weights in torchvision's layout"),
    ("not_vgg", "unexpected conv1.weight"), ("rank", "features.5.weight has shape (8, 4, 3)"),
    ("channels", "not (C_out, 8, 3, 3)"), ("text", "could not be read as weights"), ("junk", "could not be read as weights"),
    ("bad_safetensors", "could not be read as weights"), ("suffix", "not a weights file"),
    ("pickle", "never unpickles")])
def test_bad_files_are_one_line_user_errors_naming_the_file(tmp_path, case, says):
    path = _bad_file(tmp_path, case)
    with pytest.raises(UserError) as e:
        load_vgg19(path)
    msg = str(e.value)
    assert says in msg and path.name in msg and "\n" not in msg
    assert not (tmp_path / "PWNED").exists()
