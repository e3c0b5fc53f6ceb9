"""Audio: without an output device (or when it fails) playback follows the wall clock and says so."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui_support import demo_copy, make_window, play_until

pytestmark = pytest.mark.gui


@pytest.fixture
def demo(tmp_path, tmp_path_factory) -> Path:
    return demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")


def test_no_audio_device_plays_on_the_wall_clock_and_says_so(qtbot, tmp_path, demo, monkeypatch):
    import app.player.player as player_mod

    monkeypatch.setattr(player_mod, "output_device_name", lambda: None)
    win = make_window(qtbot, tmp_path, demo)
    qtbot.waitUntil(lambda: win.player.audio is not None, timeout=15000)  # the track still loads (waveform)
    assert win.player.note == "No audio device: wall clock"
    assert win.views.transport.note.text() == "No audio device: wall clock"
    play_until(qtbot, win, 30)
    assert win.player.current >= 30 and win.player.clock.kind == "wall"
    win.close()


def test_audio_device_failing_at_start_falls_back(qtbot, tmp_path, demo, monkeypatch):
    import sounddevice

    import app.player.player as player_mod

    monkeypatch.setattr(player_mod, "output_device_name", lambda: "test device")

    def broken(*a, **k):
        raise sounddevice.PortAudioError("no device")

    monkeypatch.setattr(sounddevice, "OutputStream", broken)
    win = make_window(qtbot, tmp_path, demo)
    qtbot.waitUntil(lambda: win.player.audio is not None, timeout=15000)
    assert win.player.note.startswith("Audio clock")
    play_until(qtbot, win, 20)
    assert win.player.current >= 20 and "wall clock" in win.player.note
    win.close()


def test_audio_clock_on_a_device_that_does_not_keep_time(qtbot, tmp_path, demo):
    """ALSA's null device (what CI has) swallows samples at any speed: the player notices and follows
    the wall clock instead, so playback is not raced through."""
    import subprocess
    import sys
    import textwrap

    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    code = textwrap.dedent(f"""
        import time
        from PySide6.QtWidgets import QApplication
        from PySide6.QtCore import QSettings
        from app.main_window import MainWindow
        from app.settings import Settings
        from app.player.clock import output_device_name
        if output_device_name() is None:
            print("SKIP no PortAudio output even on the null device"); raise SystemExit(0)
        app = QApplication([])
        w = MainWindow(Settings(QSettings({str(tmp_path / 's.ini')!r}, QSettings.IniFormat)), interactive=False)
        w.open_project({str(demo)!r})
        end = time.time() + 20
        while w.player.audio is None and time.time() < end:
            app.processEvents(); time.sleep(0.01)
        w.player.play()
        t0 = time.time()
        while time.time() - t0 < 2.0:
            app.processEvents(); time.sleep(0.002)
        print("RESULT", w.player.current, w.player.note, flush=True)
        w.close()
    """)
    env = {**__import__("os").environ, "HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], env=env,
                       capture_output=True, text=True, timeout=120)
    if "SKIP" in r.stdout:
        pytest.skip(r.stdout.strip())
    line = next(x for x in r.stdout.splitlines() if x.startswith("RESULT"))
    current = int(line.split()[1])
    assert 25 <= current <= 80, f"about 2 s of 25 fps played, not {current} frames"
    assert "wall clock" in line or "Audio clock" in line
