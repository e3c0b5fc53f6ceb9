"""Start the app: `python main.py [PROJECT|VIDEO] [--screenshot OUT.png]`.

The window is shown first and the project loads right after, so start-up stays short; nothing
here imports torch. ``--screenshot`` opens a useful state, renders the window to a PNG and exits
without asking anything (answers are the defaults): exit status 0 when everything opened, 1 when a
problem was reported (on stderr, one line each) — the picture is still written where one can be made.
SIGINT and SIGTERM close the window as the Quit action does (work saved; a running engine job is stopped,
a training run keeping its last checkpoint), then the app exits.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

T0 = time.perf_counter()
SCRIPT_LIMIT_S = 120.0  # --screenshot / --timing never run longer than this


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="affecttrace-gui", description="AffectTrace annotation app")
    ap.add_argument("path", nargs="?", help="a project folder (or its project.json) or a video; "
                    "default: the demo project (made on first use)")
    ap.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit")
    ap.add_argument("--theme", choices=("light", "dark"), help="colour theme for this start (not saved: "
                    "View > theme saves a choice)")
    ap.add_argument("--annotator", help="annotate as this name for this start (not saved: a later start asks, "
                    "or uses the last name chosen in the app)")
    ap.add_argument("--size", default=None, metavar="WxH", help="window size for --screenshot (default 1440x900)")
    ap.add_argument("--timing", action="store_true", help="print start-up timings as JSON on stdout")
    return ap


def _size(text: str | None) -> tuple[int, int]:
    from . import resources

    if text is None:
        w, h = resources.defaults()["window_size"]
        return int(w), int(h)
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"affecttrace-gui: --size {text!r}: expected WIDTHxHEIGHT, e.g. 1440x900")
    return w, h


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    size = _size(args.size)
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_qt_messages)

    from .settings import Settings

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("AffectTrace")
    from .gui_gc import GuiThreadCollector

    collector = GuiThreadCollector(app)  # Qt objects are freed on the GUI thread only (see app/gui_gc.py)
    settings = Settings()
    settings.use_for_this_start(annotator=args.annotator, theme=args.theme)
    from . import resources
    from .main_window import MainWindow

    app.setWindowIcon(resources.app_icon())
    win = MainWindow(settings, interactive=not args.screenshot, lazy=True)
    from .testprobe import install as install_probe

    install_probe(win)  # the real-window tests' view of the window (only where they ask for it)
    rc = {"code": 0}
    undo_signals = quit_on_signals(app, win)
    timings: dict[str, float] = {}
    if args.screenshot:
        win.resize(*size)
        win.default_layout()
    win.show()
    app.processEvents()
    timings["window_shown_s"] = time.perf_counter() - T0
    if args.timing:  # at once, so a caller can time the process from spawn to a window on screen
        print(json.dumps({"event": "window_shown", "torch_imported": "torch" in sys.modules}), flush=True)

    def load() -> None:
        try:
            win.attach_timeline()
            ok = _open_start(win, args.path)
        except Exception as e:  # a bug, not bad input: one line, and the window stays usable
            win.report_error(f"could not open {args.path or 'the demo'}: {type(e).__name__}: {e}")
            ok = False
        timings["project_open_s"] = time.perf_counter() - T0
        win.start_gamepad()
        if args.screenshot:
            try:
                shot = _screenshot(win, Path(args.screenshot), size)
            except Exception as e:
                print(f"affecttrace-gui: screenshot failed: {type(e).__name__}: {e}", file=sys.stderr)
                shot = False
            rc["code"] = 0 if ok and shot and not win.errors else 1
            win.close()
            app.quit()
        elif args.timing:
            _print_timings(timings)

    QTimer.singleShot(0, load)
    if args.screenshot or args.timing:
        QTimer.singleShot(int(SCRIPT_LIMIT_S * 1000), lambda: _give_up(app, win, rc))
    app.exec()
    collector.stop()
    undo_signals()
    if args.timing and args.screenshot:
        _print_timings(timings)
    return rc["code"]


def _give_up(app: "QApplication", win: "MainWindow", rc: dict) -> None:
    print(f"affecttrace-gui: gave up after {SCRIPT_LIMIT_S:.0f} s", file=sys.stderr)
    rc["code"] = 1
    win.close()
    app.quit()


def quit_on_signals(app: "QApplication", win: "MainWindow") -> Callable[[], None]:
    """SIGINT / SIGTERM: close the window (it saves, stops a running job) and leave the event loop, exit 0.

    Python runs signal handlers only between bytecodes; Qt's loop runs C++ for as long as nothing
    happens, so the signal's byte on a socket (signal.set_wakeup_fd) wakes a notifier in the loop.
    Returns the function that undoes this; until it runs, the sockets stay referenced (a collected
    socket would close the descriptor the signal machinery writes to)."""
    from PySide6.QtCore import QSocketNotifier, QTimer

    rsock, wsock = socket.socketpair()
    for s in (rsock, wsock):
        s.setblocking(False)
    old_fd = signal.set_wakeup_fd(wsock.fileno())
    notifier = QSocketNotifier(rsock.fileno(), QSocketNotifier.Read, app)

    def drain() -> None:
        try:
            rsock.recv(64)
        except OSError:
            pass

    notifier.activated.connect(drain)

    def handler(signum: int, _frame) -> None:
        def close() -> None:
            win.quit_stopping_jobs()
            app.quit()

        QTimer.singleShot(0, close)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def undo() -> None:
        notifier.setEnabled(False)
        for s, h in old.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(old_fd)
        rsock.close()
        wsock.close()

    return undo


def _qt_messages(mode, context, message: str) -> None:
    if "propagateSizeHints" in message:  # the offscreen platform's note on every dock: noise
        return
    print(message, file=sys.stderr)


def _print_timings(timings: dict) -> None:
    timings["torch_imported"] = "torch" in sys.modules
    print(json.dumps(timings), flush=True)


def _open_start(win: "MainWindow", path: str | None) -> bool:
    from .opening import is_project, project_folder

    if path is None:
        return win.open_demo()
    p = Path(path).expanduser()
    if p.is_dir() or is_project(p):
        return win.open_project(project_folder(p))
    if p.exists():
        return win.open_video_file(p)
    win.report_error(f"{p}: no such project or video")
    return False


def _screenshot(win: "MainWindow", out: Path, size: tuple[int, int], timeout_s: float = 20.0) -> bool:
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
        failed = lambda: player.last_error is not None  # noqa: E731
        wait(lambda: player.current >= 0 or failed(), timeout_s)
        target = int(player.n_frames * 0.4)
        player.seek(target)
        wait(lambda: player.current == target or failed(), timeout_s)
        if player.has_audio_track:
            wait(lambda: player.audio is not None, 5.0)
        own = win.session.track(create=False)
        if own is None or not any(own.coverage().values()):  # nothing of yours yet: show a colleague's lanes
            other = next((t for t in win.session.human_tracks() if any(t.coverage().values())), None)
            if other is not None:
                win.show_lanes_of(other.name)
        win.annot.set_in(max(0, target - int(2 * float(player.fps))))
        win.annot.set_out(min(player.n_frames - 1, target + int(2 * float(player.fps))))
        win.agreement_runner.start()
        wait(lambda: not win.agreement_runner.busy, timeout_s)
    if win.views.timeline is not None:
        win.views.timeline.flush()
    for _ in range(5):
        app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    img = win.grab()
    if (img.width(), img.height()) != size:
        print(f"affecttrace-gui: the window is {img.width()}x{img.height()}, not {size[0]}x{size[1]}: its "
              "content does not fit", file=sys.stderr)
    ok = img.save(str(out))
    if not ok:
        print(f"affecttrace-gui: {out}: could not write the screenshot", file=sys.stderr)
    return ok
