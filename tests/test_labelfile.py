"""One Aff-Wild2 label file: exact re-spelling of odd but valid files, and every validation message."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.interchange.labelfile import parse_label_file, render_file

EXPR8 = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
VALID = {
    "short floats": ("va", "valence,arousal\n0.352,-0.1\n-5,-5\n0.5,0.25\n1,0\n"),
    "fixed, crlf, bom, blank tail": ("va", "\ufeffvalence,arousal\r\n0.350,-0.100\r\n-5.0,-5.0\r\n0.500,0.250\r\n\r\n"),
    "odd lines kept raw": ("va", "valence,arousal\n0.1,0.2\n -5,-5\n0.5, 0.25\n+0.5,1e-1\n1,0.1234567891\n-5.0,-5\n"),
    "no final newline": ("expr", f"{EXPR8}\n0\n-1\n7\n3"),
    "7 classes": ("expr", "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise\n6\n-1\n"),
    "float-spelled classes": ("expr", f"{EXPR8}\n1.0\n-1.0\n4.0\n"),
    "au rows": ("au", "AU1,AU2,AU4\n0,1,0\n-1,-1,-1\n1,1,1\n"),
    "header only": ("va", "valence,arousal\n"),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_files_written_back_exactly(name: str) -> None:
    task, text = VALID[name]
    lf, problems = parse_label_file(Path("x.txt"), task, text)
    assert not problems and lf is not None
    values = lf.values.astype(np.float32) if task == "va" else lf.values
    assert render_file(values, lf.fmt) == text


def test_changed_values_use_the_file_spelling() -> None:
    lf, _ = parse_label_file(Path("x.txt"), "va", VALID["odd lines kept raw"][1])
    v = lf.values.astype(np.float32)
    v[2] = [0.75, -0.5]  # a line that was kept raw ('0.5, 0.25') changes: written in the detected style
    v[0] = np.nan
    lines = render_file(v, lf.fmt).split("\n")
    assert lines[1:5] == ["-5,-5", " -5,-5", "0.75,-0.5", "+0.5,1e-1"]


BAD = [
    ("va", "valence,arousal,x\n0,0\n", "line 1: wrong header"),
    ("expr", "Neutral,Anger\n0\n", "line 1: wrong header"),
    ("au", "AU1,AU1\n0,0\n", "an action unit is listed twice"),
    ("va", "valence,arousal\n0.3,-5\n", "line 2: sentinel -5 in one VA column only"),
    ("va", "valence,arousal\n0,0\n\n0,0\n", "line 3: empty line"),
    ("va", "valence,arousal\nnan,0\n", "line 2: non-numeric value 'nan'"),
    ("va", "valence,arousal\n-1.01,0\n", "line 2: valence -1.01 out of range"),
    ("expr", "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise\n7\n", "line 2: expression 7 out of range 0..6"),
    ("expr", f"{EXPR8}\n2.5\n", "line 2: expression 2.5 is not a class index"),
    ("au", "AU1,AU2\n1,-1\n", "line 2: sentinel -1 in some AU columns only"),
    ("au", "AU1,AU2\n1,2\n", "line 2: AU value 2 is not 0 or 1"),
]


@pytest.mark.parametrize("task,text,message", BAD)
def test_invalid_files_name_the_line(task: str, text: str, message: str) -> None:
    lf, problems = parse_label_file(Path("bad.txt"), task, text)
    assert lf is None and message in str(problems[0]) and str(problems[0]).startswith("bad.txt: ")


def test_many_problems_are_capped() -> None:
    lf, problems = parse_label_file(Path("b.txt"), "va", "valence,arousal\n" + "2,2\n" * 50)
    assert lf is None and len(problems) == 21 and problems[-1].message == "30 more problems"
