"""ELAN .eaf import and export: the real turkish.eaf (EAF 2.6), generated files of 2.7 and 3.0, the frame
rule, value maps, annotators, round trips (read back by pympi-ling where installed), and bad input (nothing
imported)."""
from __future__ import annotations

import hashlib
import os
import shutil
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from core.errors import AffectTraceError
from core.interchange.eaf import EafAnnotation, read_eaf
from core.interchange.elan import export_elan, import_elan
from core.interchange.framerule import frame_span, frame_time, hold_samples, ns_time, regular_samples, seconds_text
from core.labels import EXPRESSIONS
from core.modeltracks import cell_confidence
from core.project import Project, open_project
from core.tracks import Track, TrackSource

from .conftest import SHARED_DATA

INTEROP = SHARED_DATA / "interop"
TURKISH = INTEROP / "elan" / "turkish.eaf"


def make_project(folder: Path, n: int = 300, fps: str = "25", video: str = "v1") -> Project:
    p = Project.create(folder, au_set="affwild2-8")
    p.add_video(folder.parent / "media" / f"{video}.mp4", name=video, frame_count=n, fps=fps)
    p.save()
    return p


def eaf(tiers: list[tuple[str, dict[str, str], list[tuple[int, int, str]]]], version: str = "3.0",
        types: str = "", cvs: str = "", slots: list[tuple[str, int | None]] | None = None,
        header: str = "") -> str:
    """A small EAF document: each tier (id, extra attributes, [(start ms, end ms, value)])."""
    order, body, k = [], [], 0
    for tid, attrs, anns in tiers:
        attrs = {"LINGUISTIC_TYPE_REF": "default-lt", **attrs}
        a = " ".join(f'{key}="{v}"' for key, v in attrs.items())
        rows = []
        for s, e, v in anns:
            k += 1
            order += [f'<TIME_SLOT TIME_SLOT_ID="ts{2 * k - 1}" TIME_VALUE="{s}"/>',
                      f'<TIME_SLOT TIME_SLOT_ID="ts{2 * k}" TIME_VALUE="{e}"/>']
            rows.append(f'<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a{k}" TIME_SLOT_REF1="ts{2 * k - 1}" '
                        f'TIME_SLOT_REF2="ts{2 * k}"><ANNOTATION_VALUE>{v}</ANNOTATION_VALUE>'
                        "</ALIGNABLE_ANNOTATION></ANNOTATION>")
        body.append(f'<TIER TIER_ID="{tid}" {a}>{"".join(rows)}</TIER>')
    if slots is not None:
        order = [f'<TIME_SLOT TIME_SLOT_ID="{i}"' + ("" if v is None else f' TIME_VALUE="{v}"') + "/>"
                 for i, v in slots]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00" '
            f'FORMAT="{version}" VERSION="{version}"><HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">{header}</HEADER>'
            f'<TIME_ORDER>{"".join(order)}</TIME_ORDER>{"".join(body)}'
            '<LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>'
            f"{types}{cvs}</ANNOTATION_DOCUMENT>\n")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = Path(root) / f
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def tier_data(path: Path) -> dict[str, tuple[str | None, list[tuple]]]:
    """What an EAF reader sees: each tier's parent and sorted annotations, (start ms, end ms, value) or, for a
    reference annotation, (start, end, value, the value it refers to). pympi-ling (dev extra, a reader other
    than AffectTrace's) where installed, else core.interchange.eaf."""
    try:
        import pympi
    except ImportError:
        pympi = None
    if pympi is not None:
        e = pympi.Elan.Eaf(str(path), suppress_version_warning=True)
        return {t: (e.tiers[t][2].get("PARENT_REF"), sorted(e.get_annotation_data_for_tier(t))) for t in e.tiers}
    doc = read_eaf(path)
    by_id = {a.id: a for t in doc.tiers.values() for a in t.annotations}

    def row(a: EafAnnotation) -> tuple:
        if a.ref is None:
            return (*doc.times(a), a.value)
        root = by_id[a.ref]
        while root.ref is not None:
            root = by_id[root.ref]
        return (*doc.times(root), a.value, by_id[a.ref].value)
    return {t.id: (t.parent, sorted(row(a) for a in t.annotations)) for t in doc.tiers.values()}


# ------------------------------------------------------------------ the frame rule and mapping

def test_frame_belongs_to_annotation_by_display_time_half_open(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=100, fps="25")
    doc = write(tmp_path / "a.eaf", eaf([("ann1 expression", {}, [(40, 120, "Happiness"), (121, 159, "Sadness"),
                                                                    (160, 200, "surprised")])]))
    import_elan(p, doc, "v1")
    e = p.track("v1", "ann1").expr
    # frames at 0.04 and 0.08 s lie in [40, 120); 0.12 s lies in none (121-159 holds no display time)
    assert e[:6].tolist() == [-1, 4, 4, -1, 6, -1]
    late = write(tmp_path / "late.eaf", eaf([("ann2 expression", {}, [(3900, 4100, "Fear"), (5000, 6000, "Fear")])]))
    r = import_elan(p, late, "v1")  # 100 frames at 25 fps end at 4 s
    assert p.track("v1", "ann2").expr[97:].tolist() == [-1, 3, 3]  # 3.92 and 3.96 s lie in [3.9, 4.1)
    assert "2 annotation(s) run past the video's end (100 frames, 4.00 s): cut there" in "\n".join(r.lines("v1"))
    p.close()


@pytest.mark.parametrize("fps", ["25", "30000/1001", "24000/1001", "60", "1000", "7/3"])
def test_written_times_read_back_as_the_same_frames(fps: str) -> None:
    rate, rng = Fraction(fps), np.random.default_rng(7)
    for a, b in np.sort(rng.integers(0, 200_000, (300, 2)), axis=1):
        ms = Fraction(frame_time(int(a), rate, 1000), 1000), Fraction(frame_time(int(b), rate, 1000), 1000)
        assert frame_span(*ms, rate, 10**6) == (a, b)
        sec = Fraction(seconds_text(int(a), rate)), Fraction(seconds_text(int(b), rate))
        assert frame_span(*sec, rate, 10**6) == (a, b)


def test_sample_and_hold_between_rates() -> None:
    times = np.arange(50) * 40_000_000  # 25 Hz in ns
    held = hold_samples(times, Fraction(30), 70)
    assert held.tolist() == regular_samples(50, Fraction(25), Fraction(30), 70).tolist()
    assert held[59] == 49 and held[60] == -1  # the last sample holds for one sample interval
    jittery = [ns_time("0"), ns_time("0.01"), ns_time("1e-1")]  # two samples before frame 1 (0.04 s): the later holds
    # the last holds for the median gap (0.05 s): frame 3 (0.12 s) yes, frame 4 (0.16 s) no
    assert hold_samples(np.array(jittery), Fraction(25), 5).tolist() == [0, 1, 1, 2, -1]
    assert [ns_time(x) for x in ("-1.5", " 2.000000001 ", "0.1234567891", "x", "nan")] == \
        [-1_500_000_000, 2_000_000_001, 123_456_789, None, None]


def test_media_time_origin_shifts_the_annotations(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=100, fps="25")
    media = ('<MEDIA_DESCRIPTOR MEDIA_URL="file:///elsewhere/audio.wav" MIME_TYPE="audio/x-wav"/>'
             '<MEDIA_DESCRIPTOR MEDIA_URL="file:///elsewhere/v1.mp4" MIME_TYPE="video/mp4" TIME_ORIGIN="1000"/>')
    r = import_elan(p, write(tmp_path / "a.eaf", eaf([("x expression", {}, [(0, 400, "Fear")])], header=media)), "v1")
    assert np.flatnonzero(p.track("v1", "x").expr == 3).tolist() == list(range(25, 35))  # [1.0, 1.4) s of the video
    assert any("TIME_ORIGIN" in line for line in r.lines("v1"))
    p.close()


def test_frame_rule_at_ntsc_rate(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=100, fps="30000/1001")
    import_elan(p, write(tmp_path / "a.eaf", eaf([("x AU12", {}, [(0, 1001, "present")])])), "v1")
    au = p.track("v1", "x").au[:, p.au_set.index("AU12")]
    assert au[:30].tolist() == [1] * 30 and au[30] == -1  # frame 30 shows at exactly 1001 ms: outside [0, 1001)
    p.close()


def test_map_free_text_and_unmapped_values_are_listed_never_guessed(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj")
    doc = write(tmp_path / "a.eaf", eaf([("Emotion", {"ANNOTATOR": "rater7"},
                                          [(0, 400, "joy"), (400, 800, "joy "), (800, 1200, "smirk")])]))
    before = snapshot(p.folder)
    with pytest.raises(AffectTraceError) as e:
        import_elan(p, doc, "v1", tiers=["Emotion=expr"])
    assert "'joy' x2" in str(e.value) and "'smirk' x1" in str(e.value) and "never guessed" in str(e.value)
    assert snapshot(p.folder) == before and not p.has_track("v1", "rater7")
    r = import_elan(p, doc, "v1", tiers=["Emotion=expr"], maps=["JOY=Happiness"], skip_unmapped=True)
    e2 = p.track("v1", "rater7").expr
    assert (e2[:20] == 4).all() and (e2[20:30] == -1).all()
    assert any("smirk" in line for line in r.lines("v1"))
    p.close()


@pytest.mark.parametrize("attrs,track", [({"ANNOTATOR": "Ann", "PARTICIPANT": "P1"}, "Ann"),
                                         ({"PARTICIPANT": "P1"}, "P1"), ({}, "coder")])
def test_annotator_from_annotator_participant_or_tier_name(tmp_path: Path, attrs: dict, track: str) -> None:
    p = make_project(tmp_path / "proj")
    import_elan(p, write(tmp_path / "a.eaf", eaf([("coder AU6", attrs, [(0, 200, "C")])])), "v1")
    t = p.track("v1", track)
    j = p.au_set.index("AU6")
    assert t.au[:5, j].tolist() == [1] * 5 and t.au_intensity[:5, j].tolist() == [3] * 5
    assert t.source.annotator == track and track in p.annotators
    p.close()


def test_eaf_27_controlled_vocabulary_and_gaps_absent(tmp_path: Path) -> None:
    types = ('<LINGUISTIC_TYPE CONTROLLED_VOCABULARY_REF="emo" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="emo-lt" '
             'TIME_ALIGNABLE="true"/>')
    cvs = ('<CONTROLLED_VOCABULARY CV_ID="emo" DESCRIPTION="emotions"><CV_ENTRY DESCRIPTION="">happy</CV_ENTRY>'
           '<CV_ENTRY DESCRIPTION="">angry</CV_ENTRY></CONTROLLED_VOCABULARY>')
    text = eaf([("face", {"LINGUISTIC_TYPE_REF": "emo-lt", "ANNOTATOR": "a"}, [(0, 200, "happy"), (200, 400, "angry")]),
                ("smile", {"ANNOTATOR": "a"}, [(400, 800, "1")])], version="2.7", types=types, cvs=cvs)
    p = make_project(tmp_path / "proj", n=40)
    import_elan(p, write(tmp_path / "a.eaf", text), "v1", tiers=["face=expr", "smile=AU12"], gaps_absent=True)
    t = p.track("v1", "a")
    assert t.expr[:10].tolist() == [4] * 5 + [1] * 5
    au = t.au[:, p.au_set.index("AU12")]
    assert au[:10].tolist() == [0] * 10 and au[10:20].tolist() == [1] * 10 and (au[20:] == 0).all()
    p.close()


def test_facs_tier_names_several_aus(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", n=60)
    doc = write(tmp_path / "a.eaf", eaf([("coder FACS", {}, [(0, 400, "1+2"), (400, 800, "AU12C + 25"),
                                                             (800, 1200, "6+9"), (1200, 1600, "smile")])]))
    with pytest.raises(AffectTraceError, match="'smile' x1"):
        import_elan(p, doc, "v1")
    r = import_elan(p, doc, "v1", maps=["smile=12"], gaps_absent=True)
    assert "not in the project's AU set, left out: AU9 (x1)" in r.lines("v1")
    t, k = p.track("v1", "coder"), p.au_set.index
    assert t.au[:10, k("AU1")].tolist() == [1] * 10 and t.au[10:, k("AU1")].tolist() == [0] * 50  # gaps: absent
    assert t.au[10:20, k("AU12")].tolist() == [1] * 10 and t.au_intensity[10:20, k("AU12")].tolist() == [3] * 10
    assert t.au[30:40, k("AU12")].tolist() == [1] * 10 and t.au[20:30, k("AU6")].tolist() == [1] * 10
    assert (t.au[:, k("AU4")] == -1).all()  # never mentioned by the tier: unlabelled
    p.close()


def test_overlap_is_reported_and_a_conflict_refused(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj")
    same = eaf([("a expression", {}, [(0, 400, "Fear")]), ("b expression", {"ANNOTATOR": "a"}, [(200, 600, "Fear")])])
    r = import_elan(p, write(tmp_path / "same.eaf", same), "v1")
    assert any("overlapping" in line for line in r.lines("v1"))
    clash = eaf([("a expression", {}, [(0, 400, "Fear")]), ("b expression", {"ANNOTATOR": "a"}, [(200, 600, "Anger")])])
    with pytest.raises(AffectTraceError, match="frame 5 of track 'a'.*two different values"):
        import_elan(p, write(tmp_path / "clash.eaf", clash), "v1")
    p.close()


# ------------------------------------------------------------------ round trips

def _labelled_project(folder: Path, fps: str = "30000/1001") -> Project:
    p = make_project(folder, n=300, fps=fps)
    rng = np.random.default_rng(3)
    for name in ("ann1", "ann2"):
        t = Track.empty("v1", name, TrackSource.human(name), 300, p.au_set, with_intensity=True)
        t.expr[10:50], t.expr[50:51], t.expr[100:200], t.expr[299] = 4, 7, 0, 2
        j = p.au_set.index("AU12")
        t.au[20:80, j], t.au[80:120, j], t.au[0:5, 0] = 1, 0, 1
        t.au_intensity[20:40, j], t.au_intensity[80:120, j] = 3, 0
        t.va[5:250] = rng.uniform(-1, 1, (245, 2)).astype(np.float32)
        t.va[30:40] = np.nan
        p.put_track(t)
    p.save()
    return p


def test_export_then_import_gives_the_same_labels(tmp_path: Path) -> None:
    p = _labelled_project(tmp_path / "proj")
    out = tmp_path / "out"
    report = export_elan(p, "v1", out)
    eaf_path = out / "v1.eaf"
    assert report.files == [eaf_path, out / "v1_va.csv", out / "v1_tsconf.xml"]
    seen = tier_data(eaf_path)
    assert set(seen) == {"ann1 expression", "ann1 AU12", "ann1 AU1", "ann2 expression", "ann2 AU12", "ann2 AU1"}
    assert seen["ann1 AU12"][1][:2] == [(667, 1334, "C"), (1334, 2669, "present")]
    doc = read_eaf(eaf_path)
    assert doc.tiers["ann1 expression"].annotator == "ann1"
    assert doc.vocabulary(doc.tiers["ann1 expression"]) == list(EXPRESSIONS)
    media = doc.root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media.get("RELATIVE_MEDIA_URL") == "../media/v1.mp4" and media.get("MIME_TYPE") == "video/mp4"
    root = ET.parse(eaf_path).getroot()
    assert root.get("VERSION") == "3.0" and [e.tag for e in root][:3] == ["HEADER", "TIME_ORDER", "TIER"]
    linked = [e.get("RELATIVE_LINK_URL") for e in root.iter("LINKED_FILE_DESCRIPTOR")]
    assert linked == ["./v1_tsconf.xml", "./v1_va.csv"]
    conf = ET.parse(out / "v1_tsconf.xml").getroot()
    assert [t.get("name") for t in conf.iter("track")] == ["ann1 valence", "ann1 arousal", "ann2 valence",
                                                          "ann2 arousal"]
    # ELAN's CSVReader reads every line not starting with '#' as a sample, and "Continuous Rate" would put
    # sample i at i/30 s here, not at frame i's time i*1001/30000 s
    assert [s.get("sample-type") for s in conf.iter("tracksource")] == ["Discontinuous Rate"]
    first, second = (out / "v1_va.csv").read_text().splitlines()[:2]
    assert first.startswith("#time_s,") and second.startswith("0.000000,")
    q = make_project(tmp_path / "proj2", n=300, fps="30000/1001")
    import_elan(q, eaf_path, "v1")
    for name in ("ann1", "ann2"):
        a, b = p.track("v1", name), q.track("v1", name)
        assert np.array_equal(a.expr, b.expr) and np.array_equal(a.au, b.au)
        assert np.array_equal(a.au_intensity, b.au_intensity) and np.array_equal(a.va, b.va, equal_nan=True)
    p.close()
    q.close()


def test_real_turkish_eaf_import_reports_and_export_keeps_every_unmapped_tier(tmp_path: Path) -> None:
    if not TURKISH.exists():
        pytest.skip(f"real ELAN file {TURKISH} is absent")
    p = make_project(tmp_path / "proj", n=1300, fps="25", video="turkish")
    r = import_elan(p, TURKISH, "turkish", tiers=["P-Spch=expr"], skip_unmapped=True,
                    maps=["dün akşam koşa koşa eve geldim=Happiness", "saat beş olmuştu=Other"])
    text = "\n".join(r.lines("turkish"))
    assert "reference (symbolic) tier(s), not time-aligned, not imported: P-Word, P-Morph, P-Gloss, P-Trans" in text
    e = p.track("turkish", "P-Spch").expr
    assert (e[1:90] == 4).all() and e[0] == -1 and e[90] == -1  # [40, 3590) ms at 25 fps: frames 1..89
    assert (e[539:612] == 7).all() and (e != -1).sum() == 89 + 73  # [21540, 24470) ms: frames 539..611
    out = tmp_path / "out"
    export_elan(p, "turkish", out)
    orig, back = tier_data(TURKISH), tier_data(out / "turkish.eaf")
    assert set(back) == set(orig) | {"P-Spch expression"}
    for tier in ("P-Spch", "P-Word", "P-Morph", "P-Gloss", "P-Trans"):
        assert back[tier] == orig[tier]  # parent and every annotation (reference ones with what they refer to)
    shutil.copyfile(out / "turkish.eaf", tmp_path / "edited.eaf")  # back from ELAN under another name
    import_elan(p, tmp_path / "edited.eaf", "turkish")  # replaces the kept tiers of the first import
    export_elan(p, "turkish", out, overwrite=True)
    assert tier_data(out / "turkish.eaf") == back  # every tier once, none doubled
    q = make_project(tmp_path / "proj2", n=1300, fps="25", video="turkish")
    import_elan(q, out / "turkish.eaf", "turkish")  # only AffectTrace's own tier maps by itself
    assert np.array_equal(q.track("turkish", "P-Spch").expr, e)
    export_elan(q, "turkish", tmp_path / "out2")
    again = tier_data(tmp_path / "out2" / "turkish.eaf")
    assert set(again) == set(back) and again["P-Gloss"] == orig["P-Gloss"]
    p.close()
    q.close()


def test_cli_import_export_and_compare(tmp_path: Path, cli) -> None:
    p = _labelled_project(tmp_path / "proj", fps="25")
    p.close()
    code, out, err = cli("export-elan", tmp_path / "proj", tmp_path / "out")
    assert code == 0 and "v1.eaf with 6 tier(s)" in out, err
    code, _, err = cli("export-elan", tmp_path / "proj", tmp_path / "out")
    assert code == 1 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    p = open_project(tmp_path / "proj")
    p.add_video(tmp_path / "media" / "v2.mp4", name="v2", frame_count=10, fps=25)
    p.save()
    p.close()
    code, out, err = cli("export-elan", tmp_path / "proj", tmp_path / "all", "--all-videos")
    assert code == 0 and "1 video(s) without labels in the chosen tracks: v2" in out, err
    assert sorted(f.name for f in (tmp_path / "all").iterdir()) == ["v1.eaf", "v1_tsconf.xml", "v1_va.csv"]
    code, _, err = cli("export-nova", tmp_path / "proj", tmp_path / "none", "--video", "v2")
    assert code == 1 and "nothing to export: video 'v2'" in err
    q = make_project(tmp_path / "proj2", n=300, fps="25")
    q.close()
    code, out, err = cli("import-elan", tmp_path / "proj2", tmp_path / "out" / "v1.eaf", "--video", "v1")
    assert code == 0 and "into 2 track(s) of v1 (ann1, ann2)" in out, err
    code, out, err = cli("compare", tmp_path / "proj2", "--ref", "ann1", "--track", "ann2", "--task", "expr")
    assert code == 0, err
    row = next(line.split() for line in out.splitlines() if line.split()[:3] == ["ann2", "expr", "v1"])
    assert row[3:5] == ["142", "1.0000"]  # both annotators' imported expression frames, scored like any track
    q = open_project(tmp_path / "proj2")
    original = open_project(tmp_path / "proj", readonly=True)
    assert np.array_equal(q.track("v1", "ann2").expr, original.track("v1", "ann2").expr)
    original.close()
    assert np.isnan(cell_confidence(q.track("v1", "ann1"), "expr")).all()  # ELAN carries no confidence
    q.close()


# ------------------------------------------------------------------ bad input

_GOOD_TIER = [("a expression", {}, [(0, 400, "Fear")])]
BAD = {
    "malformed XML": (eaf(_GOOD_TIER)[:-60], "malformed XML"),
    "unknown tier type": (eaf([("a expression", {"LINGUISTIC_TYPE_REF": "nope"}, [(0, 400, "Fear")])]),
                          "unknown tier type 'nope'"),
    "unknown constraint": (eaf(_GOOD_TIER, types='<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="x" CONSTRAINTS="Sideways"/>'),
                           "unknown constraint 'Sideways'"),
    "time slots out of order": (eaf(_GOOD_TIER, slots=[("ts1", 900), ("ts2", 300)]), "time slots out of order"),
    "missing time slot": (eaf(_GOOD_TIER, slots=[("ts1", 0)]), "missing time slot 'ts2'"),
    "entity": ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + eaf(_GOOD_TIER).split("\n", 1)[1],
               "declares a DTD or entities"),
    "not ELAN": ("<html><body/></html>", "not an ELAN document"),
    "annotator not a name": (eaf([("a expression", {"ANNOTATOR": "x/y"}, [(0, 400, "Fear")])]),
                             "the annotator cannot name a track: 'x/y' holds a path separator"),
    "old version": (eaf(_GOOD_TIER, version="2.0"), "EAF version '2.0' is not supported"),
    "duplicate frames": (eaf([("a expression", {}, [(0, 400, "Fear"), (200, 600, "Anger")])]),
                         "given two different values"),
    "missing time series": (eaf(_GOOD_TIER, header='<LINKED_FILE_DESCRIPTOR LINK_URL="file:///nowhere/x_tsconf.xml" '
                                'MIME_TYPE="text/xml"/>'), "x_tsconf.xml is missing"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_imports_nothing(tmp_path: Path, cli, case: str) -> None:
    text, message = BAD[case]
    p = make_project(tmp_path / "proj")
    p.close()
    before = snapshot(tmp_path / "proj")
    bad = write(tmp_path / "bad.eaf", text)
    code, out, err = cli("import-elan", tmp_path / "proj", bad)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and str(bad) in lines[0] and message in lines[0], err
    after = snapshot(tmp_path / "proj")
    assert {k: v for k, v in after.items() if not k.startswith("journal")} == \
        {k: v for k, v in before.items() if not k.startswith("journal")}
    assert not open_project(tmp_path / "proj", readonly=True).track_names("v1")


def test_time_series_source_time_origin_and_comment_lines_as_elan_reads_them(tmp_path: Path) -> None:
    p = _labelled_project(tmp_path / "proj", fps="25")
    export_elan(p, "v1", tmp_path / "out")
    conf, csv = tmp_path / "out" / "v1_tsconf.xml", tmp_path / "out" / "v1_va.csv"
    conf.write_text(conf.read_text().replace('<tracksource ', '<tracksource time-origin="400" '))
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(lines[:50] + ["# a comment ELAN skips, 1.0,2.0"] + lines[50:]) + "\n")
    q = make_project(tmp_path / "proj2", n=300, fps="25")
    import_elan(q, tmp_path / "out" / "v1.eaf", "v1")
    for name in ("ann1", "ann2"):  # the series' 400 ms is ELAN's 0 ms: frame f + 10 is shown at frame f
        assert np.array_equal(q.track("v1", name).va[:-10], p.track("v1", name).va[10:], equal_nan=True)
    q.close()
    p.close()


def _clock(ms: int) -> str:
    return f"{ms // 3_600_000}:{ms // 60_000 % 60:02d}:{ms % 60_000 / 1000:06.3f}"


@pytest.mark.parametrize("form", ["ms", "clock", "semicolon-decimal-comma", "n/a"])
def test_time_series_in_the_other_forms_elan_reads(tmp_path: Path, form: str) -> None:
    """ELAN reads a whole-number time as ms, h:mm:ss.mmm as a clock, a decimal comma where ',' is no delimiter,
    and writes n/a for no value: each such CSV gives the labels of the exported one."""
    p = _labelled_project(tmp_path / "proj", fps="25")
    export_elan(p, "v1", tmp_path / "out")
    csv = tmp_path / "out" / "v1_va.csv"
    head, *rows = csv.read_text().splitlines()
    out = []
    for row in rows:
        t, *vals = row.split(",")
        ms = round(float(t) * 1000)
        if form == "ms":
            out.append(",".join([str(ms), *vals]))
        elif form == "clock":
            out.append(",".join([_clock(ms), *vals]))
        elif form == "semicolon-decimal-comma":
            out.append(";".join([t.replace(".", ","), *vals]))
        else:
            out.append(",".join([t, *("n/a" if v == "NaN" else v for v in vals)]))
    assert form != "n/a" or any("n/a" in r for r in out), "the export has unlabelled frames to write as n/a"
    csv.write_text("\n".join([head.replace(",", ";") if form.startswith("semicolon") else head, *out]) + "\n")
    q = make_project(tmp_path / "proj2", n=300, fps="25")
    import_elan(q, tmp_path / "out" / "v1.eaf", "v1")
    for name in ("ann1", "ann2"):
        assert np.array_equal(q.track("v1", name).va, p.track("v1", name).va, equal_nan=True), (form, name)
    q.close()
    p.close()


def test_time_series_with_duplicate_times_is_refused(tmp_path: Path) -> None:
    p = _labelled_project(tmp_path / "proj", fps="25")
    export_elan(p, "v1", tmp_path / "out")
    csv = tmp_path / "out" / "v1_va.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(lines[:10] + [lines[9]] + lines[10:]) + "\n")
    q = make_project(tmp_path / "proj2", n=300, fps="25")
    with pytest.raises(AffectTraceError, match="v1_va.csv: line 11: .*duplicate or out of order"):
        import_elan(q, tmp_path / "out" / "v1.eaf", "v1")
    assert not q.track_names("v1")
    q.close()
    p.close()

