"""Start the app: `python main.py [PROJECT|VIDEO] [--screenshot OUT.png]`.

The window is shown first and the project loads right after, so start-up stays short; nothing
here imports torch. ``--screenshot`` opens a useful state, renders the window to a PNG and exits
without asking anything (answers are the defaults).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="affecttrace-gui", description="AffectTrace annotation app")
    ap.add_argument("path", nargs="?", help="a project folder (or its project.json) or a video; "
                    "default: the demo project (made on first use)")
    ap.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit")
    ap.add_argument("--theme", choices=("light", "dark"), help="colour theme (remembered)")
    ap.add_argument("--annotator", help="annotate as this name (remembered)")
    ap.add_argument("--size", default="1440x900", help="window size for --screenshot (WxH)")
    ap.add_argument("--timing", action="store_true", help="print start-up timings as JSON on stdout")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_qt_messages)

    from .settings import Settings

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("AffectTrace")
    settings = Settings()
    if args.theme:
        settings.theme = args.theme
    if args.annotator:
        settings.annotator = args.annotator
    from .main_window import MainWindow

    win = MainWindow(settings, interactive=not args.screenshot, lazy=True)
    timings: dict[str, float] = {}
    if args.screenshot:
        w, h = (int(v) for v in args.size.lower().split("x"))
        win.resize(w, h)
        win.default_layout()
    win.show()
    app.processEvents()
    timings["window_shown_s"] = time.perf_counter() - T0
    if args.timing:  # at once, so a caller can time the process from spawn to a window on screen
        print(json.dumps({"event": "window_shown", "torch_imported": "torch" in sys.modules}), flush=True)
    rc = {"code": 0}

    def load() -> None:
        win.attach_timeline()
        try:
            ok = _open_start(win, args.path)
        except Exception as e:  # reported in the window; --screenshot fails loudly
            if args.screenshot:
                print(f"affecttrace-gui: {type(e).__name__}: {e}", file=sys.stderr)
                rc["code"] = 1
                app.quit()
                return
            win.statusBar().showMessage(f"Could not open: {e}")
            ok = False
        timings["project_open_s"] = time.perf_counter() - T0
        win.start_gamepad()
        if args.screenshot:
            rc["code"] = 0 if ok and _screenshot(win, Path(args.screenshot)) else 1
            win.close()
            app.quit()
        elif args.timing:
            _print_timings(timings, win)

    QTimer.singleShot(0, load)
    if args.screenshot or args.timing:
        QTimer.singleShot(120_000, app.quit)  # never hang a script
    app.exec()
    if args.timing and args.screenshot:
        _print_timings(timings, win)
    return rc["code"]


def _qt_messages(mode, context, message: str) -> None:
    if "propagateSizeHints" in message:  # the offscreen platform's note on every dock: noise
        return
    print(message, file=sys.stderr)


def _print_timings(timings: dict, win) -> None:
    timings["torch_imported"] = "torch" in sys.modules
    print(json.dumps(timings), flush=True)


def _open_start(win, path: str | None) -> bool:
    from .opening import ensure_demo, is_project, project_folder

    if path is None:
        win.set_project(ensure_demo())
        return True
    p = Path(path).expanduser()
    if p.is_dir() or is_project(p):
        return win.open_project(project_folder(p))
    if p.is_file():
        return win.open_video_file(p)
    win._error(f"{p}: no such project or video")
    return False


def _screenshot(win, out: Path, timeout_s: float = 20.0) -> bool:
    """Wait for a frame (and the waveform), go to a frame with labels in view, render to ``out``."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    player = win.player

    def wait(cond, t: float) -> bool:
        end = time.perf_counter() + t
        while not cond() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.005)
        return cond()

    if player.n_frames:
        wait(lambda: player.current >= 0, timeout_s)
        target = int(player.n_frames * 0.4)
        player.seek(target)
        wait(lambda: player.current == target, timeout_s)
        if player.has_audio_track:
            wait(lambda: player.audio is not None, 5.0)
        own = win.session.track(create=False)
        if own is None or not any(own.coverage().values()):  # nothing of yours yet: show a colleague's lanes
            other = next((t for t in win.session.human_tracks() if any(t.coverage().values())), None)
            if other is not None:
                win.show_lanes_of(other.name)
        win.annot.set_in(max(0, target - int(2 * float(player.fps))))
        win.annot.set_out(min(player.n_frames - 1, target + int(2 * float(player.fps))))
        win.compute_agreement()
        wait(lambda: not win.agreement_runner.busy, timeout_s)
    win.timeline.flush()
    for _ in range(5):
        app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    if not ok:
        print(f"affecttrace-gui: {out}: could not write the screenshot", file=sys.stderr)
    return ok
