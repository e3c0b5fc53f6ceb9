import numpy as np
import pytest

from core.edits import Edit, EditHistory, clear_range, record, set_range
from core.labels import AU_PRESETS
from core.tracks import Track, TrackKind, TrackSource


def make_track(n=100):
    return Track.empty("v", "ann", TrackSource.human("ann"), n, AU_PRESETS["affwild2-8"])


def history_for(track):
    return EditHistory(lambda e: e.apply(track), lambda e: e.revert(track))


def test_set_fill_clear_and_undo_redo_restore_exact_values():
    t = make_track()
    h = history_for(t)
    h.push(set_range("v", "ann", "expr", 10, 20, 4, author="ann"))
    assert (t.expr[10:20] == 4).all() and (t.expr[:10] == -1).all()
    h.push(set_range("v", "ann", "expr", 15, 30, 6, fill=True))  # fill keeps 15..19
    assert (t.expr[15:20] == 4).all() and (t.expr[20:30] == 6).all()
    h.push(clear_range("v", "ann", "expr", 0, 12))
    assert (t.expr[10:12] == -1).all()
    h.undo()
    h.undo()
    assert (t.expr[20:30] == -1).all() and (t.expr[10:20] == 4).all()
    h.redo()
    assert (t.expr[20:30] == 6).all() and h.can_redo
    h.push(set_range("v", "ann", "expr", 0, 1, 1))
    assert not h.can_redo


def test_au_columns_and_va_record():
    t = make_track()
    h = history_for(t)
    h.push(set_range("v", "ann", "au", 5, 8, 1, columns=(4,)))
    assert (t.au[5:8, 4] == 1).all() and (t.au[5:8, :4] == -1).all()
    samples = np.stack([np.linspace(-1, 1, 50), np.linspace(1, -1, 50)], 1)
    h.push(record("v", "ann", "va", 50, samples))
    np.testing.assert_allclose(t.va[50:], samples, atol=1e-6)
    assert t.labelled("va").sum() == 50
    h.undo()
    assert np.isnan(t.va).all()


def test_record_roundtrip_keeps_nan():
    e = record("v", "ann", "va", 3, np.array([[0.5, np.nan], [0.1, 0.2]]), author="x")
    back = Edit.from_record(e.to_record())
    np.testing.assert_array_equal(back.values, e.values)
    assert back.author == "x" and back.start == 3 and back.kind == "record"


def test_out_of_range_edit_is_refused():
    t = make_track(10)
    with pytest.raises(IndexError):
        set_range("v", "ann", "expr", 8, 12, 1).apply(t)


def test_track_source_roundtrip():
    s = TrackSource.model("run1", "abc", preset="mt-tiny")
    assert TrackSource.from_dict(s.to_dict()) == s and s.kind is TrackKind.MODEL
