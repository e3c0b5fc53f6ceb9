"""Model architectures: reference parameter counts, ArcFace logits, preset shapes, pretrained loading."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from core.errors import CheckpointError
from core.nn.arcface import ArcFaceHead
from core.nn.presets import PRESETS, build_model, parameter_counts
from core.nn.pretrained import load_pretrained
from core.nn.resnet import resnet18, resnet50
from core.nn.vgg import CONV_NAMES, TORCHVISION_CONV_INDEX, VGG16


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_reference_parameter_counts() -> None:
    assert n_params(VGG16()) == 14_714_688
    assert n_params(resnet50()) == 23_508_032
    assert n_params(resnet18()) == 11_176_512


def test_preset_backbones_match_reference_counts() -> None:
    assert parameter_counts("mt-vgg")["backbone"] == 14_714_688
    assert parameter_counts("mt-arcres")["backbone"] == 23_508_032
    assert parameter_counts("mt-resnet18")["backbone"] == 11_176_512
    # heads grow with the label spaces: 12 AUs has 4 * (512 + 1) more than 8 AUs
    assert parameter_counts("mt-tiny", 8, 12)["total"] - parameter_counts("mt-tiny", 8, 8)["total"] == 4 * 513


def test_arcface_logits_equal_the_formula() -> None:
    torch.manual_seed(0)
    head = ArcFaceHead(16, 5, s=30.0, m=0.4)
    x = torch.randn(6, 16)
    labels = torch.tensor([0, 1, 2, 3, 4, -1])
    out = head(x, labels)
    w = head.weight.detach()
    cos = (x / x.norm(dim=1, keepdim=True)) @ (w / w.norm(dim=1, keepdim=True)).T
    expected = 30.0 * cos.clone()
    for i, y in enumerate(labels.tolist()):
        if y >= 0:
            expected[i, y] = 30.0 * math.cos(math.acos(float(cos[i, y])) + 0.4)
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(head(x), 30.0 * cos, atol=1e-4, rtol=1e-4)  # inference: no margin
    assert ArcFaceHead(4, 3).s == 64.0 and ArcFaceHead(4, 3).m == 0.5  # ArcFace's own defaults


def test_arcface_margin_lowers_only_the_true_class_and_trains() -> None:
    torch.manual_seed(1)
    model = build_model("mt-tiny-arc", 8, 4, arc_s=16.0, arc_m=0.3).train()
    x = torch.randn(4, 3, 64, 64)
    y = torch.tensor([1, 2, 3, 4])
    with_margin = model(x, expr_labels=y)["expr"]
    model.heads.expr.m = 0.0
    torch.manual_seed(2)
    plain = model.eval()(x)["expr"]
    model.heads.expr.m = 0.3
    assert with_margin.shape == (4, 8)
    margin_eval = model.eval()(x, expr_labels=y)["expr"]  # eval mode: the margin is never applied
    torch.testing.assert_close(margin_eval, plain)


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if p.cpu])
def test_light_presets_forward_shapes(name: str) -> None:
    p = PRESETS[name]
    model = build_model(name, 7, 5).eval()
    b = 2
    shape = (b, p.window, 3, 112, 112) if p.temporal else (b, 3, 112, 112)
    audio = torch.randn(b, 1, 64, 32) if p.audio else None
    with torch.no_grad():
        out = model(torch.randn(shape), audio)
    lead = (b, p.window) if p.temporal else (b,)
    assert out["va"].shape == (*lead, 2) and out["expr"].shape == (*lead, 7) and out["au"].shape == (*lead, 5)
    assert float(out["va"].abs().max()) <= 1.0


def test_big_presets_build_with_their_heads() -> None:
    for name in ("mt-vgg", "mt-resnet", "mt-arcvgg", "mt-arcres", "mt-resnet-gru", "mt-resnet-gru-av"):
        with torch.device("meta"):
            m = build_model(name, 8, 12)
        assert m.heads.uses_arcface == PRESETS[name].arcface
        assert (m.temporal is not None) == PRESETS[name].temporal
        assert (m.audio_net is not None) == PRESETS[name].audio


def test_pretrained_torchvision_resnet_layout(tmp_path) -> None:
    src = resnet18()
    state = {f"module.{k}": v for k, v in src.state_dict().items()}
    state["module.fc.weight"] = torch.zeros(1000, 512)
    state["module.fc.bias"] = torch.zeros(1000)
    f = tmp_path / "resnet18.pth"
    torch.save({"state_dict": state}, f)
    dst = resnet18()
    report = load_pretrained(dst, f)
    assert report.missing == [] and report.mismatched == []
    assert sorted(report.unexpected) == ["fc.bias", "fc.weight"]
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k


def test_pretrained_torchvision_vgg_and_vggface_layouts(tmp_path) -> None:
    src = VGG16()
    tv = {}
    for idx, name in zip(TORCHVISION_CONV_INDEX, CONV_NAMES):
        tv[f"features.{idx}.weight"] = getattr(src, name).weight.detach().clone()
        tv[f"features.{idx}.bias"] = getattr(src, name).bias.detach().clone()
    tv["classifier.6.weight"] = torch.zeros(10, 4096)
    torch.save(tv, tmp_path / "vgg16.pth")
    dst = VGG16()
    rep = load_pretrained(dst, tmp_path / "vgg16.pth")
    assert len(rep.matched) == 26 and rep.missing == [] and rep.unexpected == ["classifier.6.weight"]
    assert torch.equal(dst.conv5_3.weight, src.conv5_3.weight)

    face = {k: v for k, v in src.state_dict().items()}
    face["fc8.weight"] = torch.zeros(2622, 4096)
    face["conv1_1.weight"] = torch.zeros(64, 1, 3, 3)  # wrong shape: reported, not loaded
    torch.save(face, tmp_path / "vgg_face.pth")
    rep = load_pretrained(VGG16(), tmp_path / "vgg_face.pth")
    assert rep.unexpected == ["fc8.weight"] and len(rep.mismatched) == 1 and rep.missing == ["conv1_1.weight"]


def test_pretrained_refuses_missing_and_foreign_files(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_pretrained(resnet18(), tmp_path / "absent.pth")
    torch.save({"a.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="no tensor fits"):
        load_pretrained(resnet18(), tmp_path / "other.pth")


def test_import_core_and_presets_do_not_import_torch() -> None:
    code = ("import sys, core, core.labels, core.nn, core.nn.presets, core.cli.main as m; m.build_parser(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
