"""The one expression mapping table: AffectNet-8/-7, RAF-DB-7 and Aff-Wild2's 7 + Other onto each other;
a class without a counterpart is said, never guessed."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import LabelFileError
from core.imagedata.labelmap import choose_space, class_index, parse_label_map
from core.labels import EXPRESSION_SPACES, EXPRESSIONS, expression_concept, expression_mapping, expression_space


def test_every_space_maps_onto_every_other_by_meaning() -> None:
    for a, ca in EXPRESSION_SPACES.items():
        for b, cb in EXPRESSION_SPACES.items():
            m = expression_mapping(a, b)
            for i, j in enumerate(m.index):
                if j >= 0:
                    assert expression_concept(ca[i]) == expression_concept(cb[j])
                else:
                    assert expression_concept(ca[i]) not in {expression_concept(c) for c in cb}


def test_affectnet_and_affwild2_say_contempt_and_other() -> None:
    m = expression_mapping("affectnet-8", "affwild2")
    assert m.unmatched_source == ("Contempt",) and m.unmatched_target == ("Other",)
    assert [EXPRESSIONS[j] for j in m.index if j >= 0] == ["Neutral", "Happiness", "Sadness", "Surprise", "Fear",
                                                          "Disgust", "Anger"]
    assert "no counterpart for Contempt" in m.describe() and "nothing maps to Other" in m.describe()
    assert m.apply(np.array([1, 7, -1, 9])).tolist() == [4, -1, -1, -1]


def test_rafdb_and_affectnet7_are_the_same_classes_in_another_order() -> None:
    m = expression_mapping("rafdb-7", "affectnet-7")
    assert not m.unmatched_source and not m.unmatched_target and not m.identity
    assert sorted(m.index) == list(range(7))
    back = expression_mapping("affectnet-7", "rafdb-7")
    labels = np.arange(7)
    assert (back.apply(m.apply(labels)) == labels).all()
    assert expression_mapping("affwild2", "affwild2").identity


def test_names_and_user_maps() -> None:
    assert expression_space(["happy", "Angry"]) == ("happy", "Angry")
    with pytest.raises(ValueError, match="unknown expression class"):
        expression_space(["joy"])
    with pytest.raises(ValueError, match="twice"):
        expression_space(["Happy", "Happiness"])
    with pytest.raises(ValueError, match="choose one of"):
        expression_space("fer-7")
    lm = parse_label_map("joy=Happiness, MAD=Anger")
    assert lm == {"joy": "Happiness", "mad": "Anger"}
    assert class_index("Joy", EXPRESSION_SPACES["affectnet-8"], lm) == 1
    with pytest.raises(LabelFileError, match="NAME=CLASS"):
        parse_label_map("joy=Elation")
    assert choose_space(["happy", "sad", "contempt"], {}, None) == "affectnet-8"
    assert choose_space(["happy", "sad"], {}, None) == "affwild2-7"
    assert choose_space(["other"], {}, None) == "affwild2"
