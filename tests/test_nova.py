"""NOVA annotation pairs: the real SSI discrete pair (ASCII, CRLF), continuous pairs built on NOVA's own
valence/arousal scheme headers, free schemes, binary files, resampling, confidence as a model's, round
trips, and bad input (nothing imported)."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from core.errors import AffectTraceError
from core.interchange.novaio import export_nova, import_nova
from core.modeltracks import VA_STD_SCALE, cell_confidence, frame_confidence
from core.project import open_project
from core.tracks import Track, TrackSource

from .test_elan import INTEROP, make_project, snapshot

NOVA = INTEROP / "nova"
MOVEMENT = NOVA / "ssi" / "movement.annotation"
SCHEMES = NOVA / "nova-schemes"
VALENCE_HEADER = """<?xml version="1.0" ?>
<annotation ssi-v="3">
    <info ftype="ASCII" size="0" />
    <scheme name="valence" type="CONTINUOUS" sr="25" min="-1" max="1" mincolor="#FFFFFFFF" maxcolor="#FFC0504D" />
</annotation>
"""


def real(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real NOVA file {path} is absent")
    return path


def scheme_header(name: str) -> str:
    """NOVA's shipped scheme header where the folder is present, else the same text (for the edge cases)."""
    path = SCHEMES / f"{name}.annotation"
    if path.exists():
        return path.read_text(encoding="utf-8")
    return VALENCE_HEADER.replace("valence", name) if name in ("valence", "arousal") else pytest.skip(f"{path} absent")


def continuous_pair(folder: Path, name: str, scores: np.ndarray, conf: np.ndarray, binary: bool = False,
                    size: int | None = None, **attrs: str) -> Path:
    """A data file for one of NOVA's real continuous scheme headers (its size, ftype and any attributes set)."""
    text = scheme_header(name).replace('size="0"', f'size="{len(scores) if size is None else size}"')
    if binary:
        text = text.replace('ftype="ASCII"', 'ftype="BINARY"')
    for k, v in attrs.items():
        text = text.replace(f'{k}="{dict(sr="25", min="-1", max="1")[k]}"', f'{k}="{v}"')
    header = folder / f"{name}.annotation"
    header.write_text(text, encoding="utf-8")
    data = Path(f"{header}~")
    if binary:
        data.write_bytes(b"".join(struct.pack("<ff", s, c) for s, c in zip(scores, conf)))
    else:
        data.write_text("".join(f"{s};{c}\r\n" for s, c in zip(scores, conf)))
    return header


# ------------------------------------------------------------------ the real discrete pair

MOVEMENT_MAP = ["0=Neutral", "1=Anger", "2=Disgust", "3=Fear", "4=Happiness", "5=Sadness", "6=Surprise", "7=Other"]


def test_real_discrete_pair_needs_a_task_and_lists_unmapped_values(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=1600, fps="25")
    with pytest.raises(AffectTraceError, match="scheme 'discrete'.*--scheme discrete=expr"):
        import_nova(p, [real(MOVEMENT)], "v1")
    with pytest.raises(AffectTraceError, match=r"segment\(s\) with values not mapped.*'8' x5.*'9' x5"):
        import_nova(p, [MOVEMENT], "v1", MOVEMENT_MAP, ["discrete=expr"])
    assert not p.track_names("v1")
    r = import_nova(p, [MOVEMENT], "v1", MOVEMENT_MAP, ["discrete=expr"], skip_unmapped=True)
    assert r.tracks == ["Unknown"]  # the file's annotator
    t = p.track("v1", "Unknown")
    # first segment 2.14-2.78 s, id 0: frames whose display time lies in [2.14, 2.78) at 25 fps are 54..69
    assert t.expr[53] == -1 and (t.expr[54:70] == 0).all() and t.expr[70] == -1
    assert (cell_confidence(t, "expr")[54:70] == 1.0).all()  # NOVA's confidence 1.00 is the class probability
    assert (t.expr >= 0).sum() > 0 and not (t.expr > 7).any()
    p.close()


def test_real_pair_as_an_au_and_ascii_binary_round_trip(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=1600, fps="25")
    maps = ["0=absent", "1=present", "2=A", "3=B", "4=C", "5=D", "6=E", "7=absent", "8=present", "9=present"]
    import_nova(p, [real(MOVEMENT)], "v1", maps, ["discrete=AU12"], track="rater")
    t = p.track("v1", "rater")
    j = p.au_set.index("AU12")
    assert t.au[54:70, j].tolist() == [0] * 16 and t.au_intensity[54:70, j].tolist() == [0] * 16
    for binary in (False, True):
        out = tmp_path / f"out{int(binary)}"
        files = export_nova(p, "v1", out, binary=binary)
        assert [f.name for f in files] == ["v1.AU12.rater.annotation"]
        q = make_project(tmp_path / f"proj{int(binary)}", n=1600, fps="25")
        import_nova(q, files, "v1")
        b = q.track("v1", "rater")
        assert np.array_equal(b.au, t.au) and np.array_equal(b.au_intensity, t.au_intensity)
        assert np.array_equal(np.isnan(b.au_prob), np.isnan(t.au_prob))
        q.close()
    p.close()


def test_real_laughter_scheme_header_with_generated_segments(tmp_path: Path) -> None:
    text = real(SCHEMES / "laughter.annotation").read_text().replace('size="0"', 'size="4"')
    header = tmp_path / "laughter.annotation"
    header.write_text(text)
    Path(f"{header}~").write_text("0.0;1.0;0;0.9\n1.0;2.0;1;0.6\n3;4;0;0.25\n2.0;3.0;-1;1\n")
    p = make_project(tmp_path / "proj", n=100, fps="25")
    r = import_nova(p, [header], "v1", ["LAUGH=Happiness", "speech=Neutral"], ["laughter=expr"], track="r1")
    assert "1 segment(s) of NOVA's rest class (id -1) left unlabelled" in r.lines("v1")
    t = p.track("v1", "r1")
    assert t.expr[:25].tolist() == [4] * 25 and t.expr[25:50].tolist() == [0] * 25 and (t.expr[50:75] == -1).all()
    c = cell_confidence(t, "expr")
    assert np.allclose(c[:25], 0.9) and np.allclose(c[25:50], 0.6) and np.allclose(c[75:100], 0.25)
    assert np.isnan(t.expr_prob[0, 1])  # NOVA gives the chosen class's probability only
    p.close()


# ------------------------------------------------------------------ continuous schemes

def test_continuous_pair_at_the_video_rate_with_confidence(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    v, a = rng.uniform(-1, 1, 50).astype(np.float32), rng.uniform(-1, 1, 50).astype(np.float32)
    v[10] = np.nan
    conf = np.linspace(0, 1, 50).astype(np.float32)
    files = [continuous_pair(tmp_path, "valence", v, conf), continuous_pair(tmp_path, "arousal", a, conf, binary=True)]
    p = make_project(tmp_path / "proj", n=60, fps="25")
    r = import_nova(p, files, "v1", track="r")
    assert not any("resampled" in line for line in r.lines("v1"))
    t = p.track("v1", "r")
    assert np.array_equal(t.va[:50, 0], v, equal_nan=True) and np.array_equal(t.va[:50, 1], a)
    assert np.isnan(t.va[50:]).all()  # past the last sample: unlabelled
    assert np.allclose(t.va_std[:50, 1], (1 - conf) * VA_STD_SCALE)
    ok = ~np.isnan(v)
    assert np.allclose(frame_confidence(t, "va")[:50][ok], conf[ok], atol=1e-6)  # read back as a model's confidence
    p.close()


def test_continuous_pair_resampled_by_sample_and_hold_and_rescaled(tmp_path: Path) -> None:
    scores = np.arange(50, dtype=np.float32) / 5  # 0 .. 9.8 on a 0..10 scale
    header = continuous_pair(tmp_path, "valence", scores, np.ones(50, np.float32), min="0", max="10")
    p = make_project(tmp_path / "proj", n=70, fps="30")
    r = import_nova(p, [header], "v1", track="r")
    text = "\n".join(r.lines("v1"))
    assert "25 Hz resampled to the video's 30 fps by sample-and-hold" in text and "rescaled from [0, 10]" in text
    t = p.track("v1", "r")
    f = np.arange(60)
    assert np.allclose(t.va[:60, 0], scores[f * 25 // 30] / 5 - 1)  # frame f takes sample floor(f * 25 / 30)
    assert np.isnan(t.va[60:, 0]).all()
    p.close()


def test_free_scheme_text_segments(tmp_path: Path) -> None:
    header = tmp_path / "free.annotation"
    header.write_text('<?xml version="1.0" ?>\n<annotation ssi-v="3"><info ftype="ASCII" size="2"/>'
                      '<meta annotator="coder"/><scheme name="comments" type="FREE"/></annotation>\n')
    Path(f"{header}~").write_text('0.0;0.4;"big smile";0.8\n0.4;0.8;"frown; slight";1\n')
    p = make_project(tmp_path / "proj", n=40, fps="25")
    import_nova(p, [header], "v1", ["big smile=6+12B", "frown; slight=4"], ["comments=facs"], track="facs")
    t, k = p.track("v1", "facs"), p.au_set.index
    assert t.au[:10, k("AU6")].tolist() == [1] * 10 and t.au_intensity[:10, k("AU12")].tolist() == [2] * 10
    assert t.au[10:20, k("AU4")].tolist() == [1] * 10 and (t.au[10:20, k("AU6")] == -1).all()
    with pytest.raises(AffectTraceError, match="'frown; slight' x1"):
        import_nova(p, [header], "v1", ["big smile=Happiness"], ["comments=expr"])
    import_nova(p, [header], "v1", ["big smile=Happiness", "frown; slight=Sadness"], ["comments=expr"])
    assert p.track("v1", "coder").expr[:20].tolist() == [4] * 10 + [5] * 10
    p.close()


def test_free_scheme_binary(tmp_path: Path) -> None:
    header = tmp_path / "free.annotation"
    header.write_text('<?xml version="1.0" ?>\n<annotation ssi-v="3"><info ftype="BINARY" size="2"/>'
                      '<meta annotator="coder"/><scheme name="AU6" type="FREE"/></annotation>\n')
    rec = [(0.0, 0.4, "cheeks up", 0.7), (0.4, 0.8, "none", 0.9)]
    body = b"".join(struct.pack("<ddi", a, b, len(t)) + t.encode("latin-1") + struct.pack("<f", c)
                    for a, b, t, c in rec)
    Path(f"{header}~").write_bytes(body)
    p = make_project(tmp_path / "proj", n=40, fps="25")
    import_nova(p, [header], "v1", ["cheeks up=present", "none=absent"])
    t = p.track("v1", "coder")
    j = p.au_set.index("AU6")
    assert t.au[:20, j].tolist() == [1] * 10 + [0] * 10
    assert np.allclose(t.au_prob[:20, j], [0.7] * 10 + [0.1] * 10)  # p(present): c when present, 1 - c when absent
    Path(f"{header}~").write_bytes(body[:-6])
    with pytest.raises(AffectTraceError, match="holds 1 record.*fewer than the 2"):
        import_nova(p, [header], "v1", ["cheeks up=present", "none=absent"])
    p.close()


# ------------------------------------------------------------------ round trips with a model track's confidence

def test_model_track_confidence_round_trip_ascii_and_binary(tmp_path: Path, cli) -> None:
    p = make_project(tmp_path / "proj", n=200, fps="30000/1001")
    rng = np.random.default_rng(5)
    t = Track.empty("v1", "model-r1", TrackSource.model("r1", "abc"), 200, p.au_set)
    t.expr[:] = rng.integers(0, 8, 200)
    t.expr_prob = rng.dirichlet(np.ones(8), 200).astype(np.float32)
    t.au[:] = rng.integers(0, 2, t.au.shape)
    t.au_prob = np.where(t.au == 1, rng.uniform(0.5, 1, t.au.shape), rng.uniform(0, 0.5, t.au.shape)).astype(np.float32)
    t.va[:] = rng.uniform(-1, 1, (200, 2))
    t.va_std = rng.uniform(0, 0.5, (200, 2)).astype(np.float32)
    p.put_track(t)
    p.save()
    p.close()
    for flag in ([], ["--binary"]):
        out = tmp_path / f"out{len(flag)}"
        code, text, err = cli("export-nova", tmp_path / "proj", out, "--track", "model-r1", *flag)
        assert code == 0 and "wrote 11 NOVA annotation pair(s) of v1" in text, err
        dest = tmp_path / f"proj{len(flag)}"
        make_project(dest, n=200, fps="30000/1001").close()
        code, text, err = cli("import-nova", dest, *sorted(out.glob("*.annotation")))
        assert code == 0 and "into 1 track(s)" in text and "resampled" not in text, err
        code, _, err = cli("import-nova", tmp_path / "proj", *sorted(out.glob("*.annotation")))  # onto the model's
        assert code == 1 and "'model-r1' of 'v1' is a model or tool track" in err
        q = open_project(dest, readonly=True)
        b = q.track("v1", "model-r1")
        assert np.array_equal(b.expr, t.expr) and np.array_equal(b.au, t.au)
        assert np.array_equal(b.va, t.va)
        chosen = t.expr_prob[np.arange(200), t.expr]
        assert np.allclose(cell_confidence(b, "expr"), chosen, atol=1e-6)
        assert np.allclose(b.au_prob, t.au_prob, atol=1e-6)
        assert np.allclose(b.va_std, t.va_std, atol=1e-6)
        q.close()


# ------------------------------------------------------------------ bad input

def _movement_copy(folder: Path) -> Path:
    for name in ("movement.annotation", "movement.annotation~"):
        shutil.copyfile(real(NOVA / "ssi" / name), folder / name)
    return folder / "movement.annotation"


def _bad_cases(folder: Path, case: str) -> tuple[Path, str]:
    h = _movement_copy(folder)
    data = Path(f"{h}~")
    text = h.read_text()
    if case == "data shorter than header":
        data.write_bytes(b"".join(data.read_bytes().splitlines(keepends=True)[:47]))
        return h, "data file holds 47 record(s), fewer than the 50 its header announces"
    if case == "binary data truncated":
        h.write_text(text.replace('ftype="ASCII"', 'ftype="BINARY"'))
        data.write_bytes(struct.pack("<ddif", 0.0, 1.0, 1, 1.0) * 49 + b"\0" * 10)
        return h, "fewer than the 50 its header announces"
    if case == "malformed header":
        h.write_text(text[:-30])
        return h, "malformed XML"
    if case == "unknown scheme type":
        h.write_text(text.replace('type="DISCRETE"', 'type="POLYGON"'))
        return h, "unknown scheme type 'POLYGON'"
    if case == "label id not in scheme":
        data.write_text(data.read_text().replace("2.14;2.78;0;", "2.14;2.78;12;"))
        return h, "line 1: label id '12' is not an item of scheme 'discrete'"
    if case == "segment ends before it starts":
        data.write_text(data.read_text().replace("2.14;2.78;", "2.78;2.14;"))
        return h, "line 1: segment ends"
    if case == "confidence out of range":
        data.write_text(data.read_text().replace("2.14;2.78;0;1.00", "2.14;2.78;0;7"))
        return h, "confidence 7 is outside [0, 1]"
    if case == "duplicate frames":
        data.write_text(data.read_text().replace("3.68;4.32;1;", "2.50;4.32;1;"))
        return h, "is given two different values"
    if case == "data file missing":
        data.unlink()
        return data, "data file missing"
    raise AssertionError(case)


BAD = ["data shorter than header", "binary data truncated", "malformed header", "unknown scheme type",
       "label id not in scheme", "segment ends before it starts", "confidence out of range", "duplicate frames",
       "data file missing"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_and_imports_nothing(tmp_path: Path, cli, case: str) -> None:
    p = make_project(tmp_path / "proj", n=1600, fps="25")
    p.close()
    header, message = _bad_cases(tmp_path, case)
    before = snapshot(tmp_path / "proj")
    code, _, err = cli("import-nova", tmp_path / "proj", tmp_path / "movement.annotation", "--scheme", "discrete=expr",
                       "--skip-unmapped", *[f"--map={m}" for m in MOVEMENT_MAP])
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and str(header) in lines[0] and message in lines[0], err
    after = snapshot(tmp_path / "proj")
    assert {k: v for k, v in after.items() if not k.startswith("journal")} == \
        {k: v for k, v in before.items() if not k.startswith("journal")}
    q = open_project(tmp_path / "proj", readonly=True)
    assert not q.track_names("v1")
    q.close()


def test_continuous_samples_out_of_range_and_short_data(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=60, fps="25")
    bad = continuous_pair(tmp_path, "valence", np.array([0.5, 1.5], np.float32), np.ones(2, np.float32))
    with pytest.raises(AffectTraceError, match=r"line 2: sample 1: score 1.5 outside \[-1, 1\]"):
        import_nova(p, [bad], "v1")
    short = continuous_pair(tmp_path, "arousal", np.zeros(3, np.float32), np.ones(3, np.float32), binary=True, size=5)
    with pytest.raises(AffectTraceError, match="holds 3 record"):
        import_nova(p, [short], "v1")
    assert not p.track_names("v1")
    p.close()
