import pytest

from core import labels
from core.labels import AU_PRESETS, AUSet, au_set


def test_expression_spaces():
    assert len(labels.EXPRESSIONS) == 8 and labels.EXPRESSIONS[labels.EXPR_OTHER] == "Other"
    assert labels.EXPRESSIONS_2020 == labels.EXPRESSIONS[:7]
    assert labels.EXPRESSIONS[4] == "Happiness"


def test_au_presets_match_spec():
    assert AU_PRESETS["affwild2-8"].aus == ("AU1", "AU2", "AU4", "AU6", "AU12", "AU15", "AU20", "AU25")
    assert len(AU_PRESETS["affwild2-12"]) == 12 and AU_PRESETS["affwild2-12"].aus[-1] == "AU26"


def test_custom_au_sets_of_any_size():
    s = au_set("AU1, au12 ,AU45")
    assert s.aus == ("AU1", "AU12", "AU45") and s.name == "custom" and len(s) == 3
    assert s.index("au12") == 1
    assert au_set(["AU1", "AU2", "AU4", "AU6", "AU12", "AU15", "AU20", "AU25"]) is AU_PRESETS["affwild2-8"]
    assert AUSet.from_dict(s.to_dict()) == s
    assert labels.au_description("AU12") == "Lip corner puller"


@pytest.mark.parametrize("bad", ["", "AUx", "12", "AU1,AU1"])
def test_bad_au_sets_are_refused(bad):
    with pytest.raises(ValueError):
        au_set(bad)
