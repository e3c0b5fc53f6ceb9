"""py-feat Fex CSV import: the real table from py-feat's wheel and generated ones (sampled frames, several faces)
become a read-only tool track whose expression probabilities are py-feat's seven emotions mapped onto the
label space, with AU probabilities, face boxes and landmarks; it scores in compare; bad tables are refused."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.faces import FaceCache
from core.labels import EXPRESSIONS
from core.project import Project
from core.tracks import TrackSource
from tests.toolgen import (
    PYFEAT_AUS,
    PYFEAT_EMOTIONS,
    add_au12_annotator,
    interop,
    project_with_video,
    pyfeat_rows,
    write_pyfeat,
)

N = 40


def test_real_fex_table_maps_emotions_onto_the_label_space(tmp_path, cli):
    src = interop("Feat_Test.csv")
    folder = project_with_video(tmp_path, 5, size=(480, 480))
    code, out, err = cli("import-pyfeat", folder, src)
    assert code == 0, err
    assert "1 of 5 frames with a face" in out and "input" in out  # the author's path is reported as dropped
    raw = pd.read_csv(src)
    with Project.open(folder, readonly=True) as p:
        t = p.track("clip", "pyfeat")
        assert t.source.tool == "py-feat"
        for name in PYFEAT_EMOTIONS:
            concept = {"anger": "Anger", "disgust": "Disgust", "fear": "Fear", "happiness": "Happiness",
                       "sadness": "Sadness", "surprise": "Surprise", "neutral": "Neutral"}[name]
            assert t.expr_prob[0, EXPRESSIONS.index(concept)] == pytest.approx(raw[name].iat[0], rel=1e-6)
        assert t.expr_prob[0, EXPRESSIONS.index("Other")] == 0.0
        assert t.expr[0] == EXPRESSIONS.index("Happiness") and (t.expr[1:] == -1).all()
        for a in p.au_set.aus:
            col = f"AU{int(a[2:]):02d}"
            assert t.au_prob[0, p.au_set.index(a)] == pytest.approx(raw[col].iat[0], rel=1e-6)
            assert t.au[0, p.au_set.index(a)] == int(raw[col].iat[0] >= 0.5)
        assert np.isnan(t.au_prob[1:]).all()
        with FaceCache(folder / "cache" / "faces" / "clip.h5") as cache:
            assert cache.backend == "py-feat" and cache.frames.tolist() == [0]
            x, y, w, h = (raw[c].iat[0] for c in ("FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight"))
            assert np.allclose(cache.boxes[0], [x, y, x + w, y + h], atol=1e-3)
            assert cache.scores[0] == pytest.approx(raw["FaceScore"].iat[0])
    code, out, err = cli("export-csv", folder, tmp_path / "t.csv", "--track", "pyfeat")
    table = pd.read_csv(tmp_path / "t.csv")
    assert table["p_Happiness"].iat[0] == pytest.approx(raw["happiness"].iat[0], rel=1e-5)
    assert table["tool_Yaw"].iat[0] == pytest.approx(raw["Yaw"].iat[0], rel=1e-5)
    assert table["tool_AU11_p"].iat[0] == pytest.approx(raw["AU11"].iat[0], rel=1e-5)  # outside the AU set: kept


def _emotions(rng: np.random.Generator, n: int) -> np.ndarray:
    e = rng.dirichlet(np.ones(7), size=n)
    return e


def test_sampled_frames_and_several_faces_score_against_an_annotator(tmp_path, cli):
    rng = np.random.default_rng(5)
    frames = list(range(0, N, 2))  # py-feat's skip_frames=2
    emo = _emotions(rng, len(frames))
    au = rng.uniform(0, 1, (len(frames), len(PYFEAT_AUS)))
    folder = project_with_video(tmp_path, N)
    csv = write_pyfeat(tmp_path / "fex.csv", pyfeat_rows(frames, emo, au, faces=2))
    code, out, err = cli("import-pyfeat", folder, csv)
    assert code == 0, err
    assert f"{len(frames)} frame(s) had several faces: kept the face with the highest FaceScore" in out
    # the annotator agrees on every other sampled frame
    mapping = [EXPRESSIONS.index(c) for c in ("Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise",
                                              "Neutral")]
    predicted = np.array([mapping[k] for k in emo.argmax(axis=1)])
    truth = predicted.copy()
    truth[1::2] = (truth[1::2] + 1) % 7
    with Project.open(folder) as p:
        t = p.new_track("clip", "ann1", TrackSource.human("ann1"))
        t.expr[frames] = truth
        p.put_track(t)
        p.save()
        tool = p.track("clip", "pyfeat")
        assert np.array_equal(tool.expr[frames], predicted) and (tool.expr[1::2] == -1).all()
    code, out, err = cli("compare", folder, "--ref", "@ann1", "--track", "pyfeat", "--task", "expr", "--json")
    assert code == 0, err
    row = next(r for r in json.loads(out)["rows"] if r["video"] == "(project)")
    assert row["frames"] == len(frames)
    assert row["value2"] == pytest.approx(float((predicted == truth).mean()))  # accuracy
    code, out, err = cli("import-pyfeat", folder, csv, "--face-id", "1", "--track", "second")
    assert code == 0, err
    with FaceCache(folder / "cache" / "faces" / "clip.h5") as cache:
        assert cache.scores[0] == pytest.approx(0.79)  # the second face's FaceScore


@pytest.mark.parametrize("case,why", [
    ("probability", "line 3: anger 1.5 is not a probability in [0, 1]"),
    ("duplicate", "line 3: a second row for frame 0"),
    ("past_end", "made from another video"),
    ("no_frame", "not a py-feat Fex CSV: no column frame"),
])
def test_bad_fex_tables_get_one_line_and_nothing_is_imported(tmp_path, cli, case, why):
    rng = np.random.default_rng(1)
    frames = [0, 1, 2]
    emo, au = _emotions(rng, 3), rng.uniform(0, 1, (3, len(PYFEAT_AUS)))
    rows = pyfeat_rows(frames, emo, au)
    if case == "probability":
        rows[1]["anger"] = 1.5
    elif case == "duplicate":
        rows[1] = dict(rows[0])
    elif case == "past_end":
        rows[2]["frame"] = N + 10
    else:
        rows = [{k: v for k, v in r.items() if k != "frame"} for r in rows]
    folder = project_with_video(tmp_path, N)
    csv = write_pyfeat(tmp_path / "bad.csv", rows)
    code, _, err = cli("import-pyfeat", folder, csv)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and str(csv) in lines[0] and why in lines[0], err
    with Project.open(folder, readonly=True) as p:
        assert p.track_names("clip") == []
    assert not (folder / "cache" / "faces" / "clip.h5").exists()


def test_pyfeat_au_probabilities_score_at_the_stated_threshold(tmp_path, cli):
    rng = np.random.default_rng(8)
    frames = list(range(N))
    au = rng.uniform(0, 1, (N, len(PYFEAT_AUS)))
    folder = project_with_video(tmp_path, N)
    assert cli("import-pyfeat", folder, write_pyfeat(tmp_path / "fex.csv", pyfeat_rows(frames, _emotions(rng, N),
                                                                                         au)))[0] == 0
    p12 = au[:, PYFEAT_AUS.index(12)]
    ref = (rng.uniform(0, 1, N) < 0.4).astype(np.int8)
    add_au12_annotator(folder, ref)

    def f1(pred: np.ndarray) -> float:
        return 2 * int((pred & (ref == 1)).sum()) / (int(pred.sum()) + int((ref == 1).sum()))

    for extra, cut, rule in (([], 0.5, "py-feat: probability >= 0.5"),
                             (["--au-threshold", "0.3"], 0.3, "py-feat: probability >= 0.3")):
        code, out, err = cli("evaluate", "--task", "au", "--pred", f"{folder}:pyfeat", "--ref", f"{folder}:@ann1",
                             "--json", *extra)
        assert code == 0, err
        res = json.loads(out)
        assert res["overall"]["per_au_f1"]["AU12"] == pytest.approx(f1(p12.astype(np.float32) >= cut))
        assert res["au_rules"]["pred"] == rule
