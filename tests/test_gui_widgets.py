"""Widgets on their own: joystick field (mouse, keyboard, modes), gamepad mapping and calibration
(and no device), timeline on an hour of frames, next unlabelled / next disagreement."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.input.gamepad import AxisCalibration, Calibrator, GamepadConfig, GamepadInput, map_axis
from app.navigation import disagreement, next_disagreement, next_unlabelled
from app.widgets.joystick import JoystickField
from core.labels import AU_PRESETS
from core.tracks import Track, TrackSource

pytestmark = pytest.mark.gui


def _px(w: JoystickField, v: float, a: float) -> QPoint:
    p = w._to_px(v, a)
    return QPoint(round(p.x()), round(p.y()))


def test_joystick_mouse_drag_holds_where_left(qtbot):
    w = JoystickField()
    qtbot.addWidget(w)
    w.resize(300, 300)
    w.show()
    QTest.mousePress(w, Qt.LeftButton, Qt.NoModifier, _px(w, 0.5, -0.25))
    np.testing.assert_allclose(w.value(), [0.5, -0.25], atol=0.02)
    QTest.mouseMove(w, _px(w, -0.75, 0.6))
    QTest.mouseRelease(w, Qt.LeftButton, Qt.NoModifier, _px(w, -0.75, 0.6))
    np.testing.assert_allclose(w.value(), [-0.75, 0.6], atol=0.02)
    QTest.mouseMove(w, _px(w, 0.9, 0.9))  # released: moving the mouse changes nothing
    np.testing.assert_allclose(w.value(), [-0.75, 0.6], atol=0.02)
    QTest.mousePress(w, Qt.LeftButton, Qt.NoModifier, QPoint(2, 2))  # outside the field: clipped
    assert (np.abs(w.value()) <= 1).all()


def test_joystick_keyboard_and_modes(qtbot):
    w = JoystickField()
    qtbot.addWidget(w)
    w.show()
    w.setFocus()
    QTest.keyClick(w, Qt.Key_Right)
    QTest.keyClick(w, Qt.Key_Up, Qt.ShiftModifier)
    np.testing.assert_allclose(w.value(), [0.05, 0.2], atol=1e-6)
    w.set_mode("valence")
    w.set_value(-0.4, 0.9)  # arousal held in valence-only mode
    np.testing.assert_allclose(w.value(), [-0.4, 0.2], atol=1e-6)
    assert w.columns() == (0,) and w.sample().tolist() == pytest.approx([-0.4])
    w.set_mode("arousal")
    w.set_value(0.3, -0.6)
    np.testing.assert_allclose(w.value(), [-0.4, -0.6], atol=1e-6)
    assert w.columns() == (1,)
    QTest.keyClick(w, Qt.Key_Home)
    assert w.value()[1] == 0.0
    with pytest.raises(ValueError):
        w.set_mode("3d")


def test_gamepad_axis_mapping():
    cal = AxisCalibration(-0.8, 0.1, 0.9)
    assert map_axis(0.1, cal, 0.1, False) == 0.0  # rest -> 0
    assert map_axis(0.9, cal, 0.1, False) == pytest.approx(1.0)
    assert map_axis(-0.8, cal, 0.1, False) == pytest.approx(-1.0)
    assert map_axis(0.9, cal, 0.1, True) == pytest.approx(-1.0)
    assert map_axis(0.15, cal, 0.1, False) == 0.0  # inside the dead zone
    assert 0 < map_axis(0.5, cal, 0.1, False) < 1
    c = Calibrator()
    for rv, ra in [(-0.7, 0.2), (0.95, -0.9), (0.0, 0.85), (0.05, 0.02)]:
        c.add(rv, ra)
    v, a = c.result()
    assert (v.low, v.high, v.rest) == (-0.7, 0.95, 0.05) and (a.low, a.high, a.rest) == (-0.9, 0.85, 0.02)
    cfg = GamepadConfig.from_dict({**GamepadConfig().to_dict(), "axis_valence": 2, "dead_zone": 0.2})
    assert cfg.axis_valence == 2 and cfg.dead_zone == 0.2 and cfg.cal_valence == AxisCalibration()


def test_gamepad_without_a_device_says_so(qtbot):
    pad = GamepadInput()
    started = pad.start()
    assert started, pad.status
    if pad.name is None:
        assert pad.status.startswith("No gamepad found")
    pad.poll()  # nothing to read, nothing raised
    pad.stop()


def _track(name: str, n: int, seed: int) -> Track:
    t = Track.empty("v", name, TrackSource.human(name), n, AU_PRESETS["affwild2-8"])
    rng = np.random.default_rng(seed)
    t.va[:] = np.cumsum(rng.normal(0, 0.01, (n, 2)), axis=0).clip(-1, 1)
    return t


def test_navigation():
    a, b = _track("a", 200, 0), _track("b", 200, 1)
    a.va[50:60] = np.nan
    assert next_unlabelled(a, "va", 10) == 50 and next_unlabelled(a, "va", 70) == 50  # wraps
    a.va[50:60] = 0
    assert next_unlabelled(a, "va", 10) is None
    b.va[:] = a.va
    b.va[120:130, 0] = a.va[120:130, 0] + 0.9
    assert next_disagreement([a, b], "va", 0) == 120 and next_disagreement([a, b], "va", 125) == 120
    a.expr[:] = 1
    b.expr[:] = 1
    b.expr[30:33] = 4
    assert disagreement([a, b], "expr").sum() == 3 and next_disagreement([a, b], "expr", 0) == 30
    a.au[:] = 0
    b.au[:] = 0
    b.au[77, 3] = 1
    assert next_disagreement([a, b], "au", 0) == 77


def test_timeline_handles_an_hour_of_frames(qtbot):
    from app.widgets.timeline import Timeline

    n = 25 * 3600
    tl = Timeline()
    qtbot.addWidget(tl)
    tl.resize(1200, 320)
    tl.show()
    tl.set_video(n, 25.0)
    tracks = [_track(f"ann{i}", n, i) for i in range(3)]
    tracks[0].expr[1000:5000] = 4
    tracks[0].au[2000:2500, 1] = 1
    tl.set_tracks(tracks)
    tl.set_lane_track(tracks[0])
    tl.set_waveform(np.abs(np.sin(np.arange(n) / 50)).astype(np.float32))
    for lo, hi in [(0, 3600), (100, 160), (1800, 1801), (0, 60)]:  # zoom out to everything and back in
        tl.wave.setXRange(lo, hi, padding=0)
        tl.set_playhead(int(lo * 25))
        tl.view.grab()
    lo, hi = tl.wave.viewRange()[0]
    assert hi - lo == pytest.approx(60, rel=0.05)
    assert tl._lanes.shape == (2 + 8, n, 4)
    tracks[0].expr[10:20] = 2
    tl.labels_changed("ann0", "expr", 10, 20)
    tl.flush()
    expected = tl._lanes[1, 15]
    assert expected[3] == 255 and tuple(expected[:3]) != tuple(tl._lanes[1, 25][:3])
    clicked = []
    tl.seekRequested.connect(clicked.append)
    tl.playheads[1].setValue(12.0)
    tl._dragged(tl.playheads[1])
    assert clicked == [300]
