"""A real X session for the real-window tests: Xvfb, the openbox window manager, the app started as a
person starts it (``python main.py PROJECT``) and driven with xdotool's real key and mouse events.

The app tells where its fields, tabs and menu items are through app/testprobe.py (AFFECTTRACE_PROBE);
every wait polls that state or the process with a timeout (no bare sleeps), so a loaded machine only
makes the tests slower. Labels are read from the saved project after the app has quit.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "openbox", "xdotool", "xprop", "xwininfo")
START_TIMEOUT_S = 120.0  # the app's first window on a loaded 2-core machine
WAIT_S = 60.0


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def require_tools() -> None:
    gone = missing_tools()
    if gone:
        pytest.skip(f"real-window tests need {', '.join(gone)} (Debian: xvfb openbox xdotool x11-utils; "
                    "bash packaging/dev.sh install adds them)")


def wait_for(cond: Callable[[], object], timeout_s: float, what: str, poll_s: float = 0.05,
             details: Callable[[], str] = lambda: ""):
    """``cond()``'s first true value, polled until ``timeout_s``; else the test fails saying ``what``."""
    end = time.monotonic() + timeout_s
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}. {details()}")
        time.sleep(poll_s)


class XServer:
    """Xvfb at ``width``x``height`` (a free display number) with openbox managing its windows."""

    def __init__(self, width: int, height: int, home: Path) -> None:
        require_tools()
        self.size = (width, height)
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        r, w = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24",
                                      "-nolisten", "tcp", "-noreset"], pass_fds=(w,),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        number = b""
        with os.fdopen(r, "rb") as f:  # Xvfb writes the display number once it accepts clients
            while not number.endswith(b"\n"):
                chunk = f.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip():
            self.xvfb.kill()
            pytest.skip("Xvfb did not start (no display number)")
        self.display = f":{number.decode().strip()}"
        self.wm = subprocess.Popen(["openbox", "--sm-disable"], env=self.env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        wait_for(lambda: "window id" in self.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", check=False),
                 WAIT_S, "openbox to manage the screen")

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "XDG_", "WAYLAND"))}
        env.update(DISPLAY=self.display, HOME=str(self.home), QT_QPA_PLATFORM="xcb")
        env.update(extra)
        return env

    def run(self, *argv: str, check: bool = True) -> str:
        r = subprocess.run(argv, env=self.env(), capture_output=True, text=True, timeout=WAIT_S)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def key(self, *keys: str) -> None:
        """Press and release each key (xdotool names: 'Return', 'ctrl+q', '4') on the focused window."""
        self.run("xdotool", "key", "--delay", "40", *keys)

    def click(self, x: int, y: int) -> None:
        self.run("xdotool", "mousemove", "--sync", str(x), str(y), "click", "1")

    def click_rect(self, rect: Sequence[int]) -> None:
        x, y, w, h = rect
        self.click(x + w // 2, y + h // 2)

    def frame_extents(self, window_id: str) -> tuple[int, int, int, int]:
        """The window manager's frame around a window: left, right, top, bottom."""
        out = self.run("xprop", "-id", window_id, "_NET_FRAME_EXTENTS", check=False)
        if "=" not in out:
            return 0, 0, 0, 0
        left, right, top, bottom = (int(v) for v in out.split("=")[1].split(","))
        return left, right, top, bottom

    def client_geometry(self, window_id: str) -> tuple[int, int, int, int]:
        """x, y, width, height of a window's client area on the screen (xwininfo; xdotool's
        getwindowgeometry adds the frame's offset twice under some window managers)."""
        out = self.run("xwininfo", "-id", window_id)
        v = {k.strip(): val.strip() for k, _, val in (line.partition(":") for line in out.splitlines()) if val}
        return (int(v["Absolute upper-left X"]), int(v["Absolute upper-left Y"]), int(v["Width"]),
                int(v["Height"]))

    def frame_rect(self, window_id: str) -> tuple[int, int, int, int]:
        """The window with the window manager's frame around it: x, y, width, height."""
        x, y, w, h = self.client_geometry(window_id)
        left, right, top, bottom = self.frame_extents(window_id)
        return x - left, y - top, w + left + right, h + top + bottom

    def close(self) -> None:
        for p in (self.wm, self.xvfb):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


class App:
    """The app in ``x``: started with ``args`` and its own HOME (its settings live there)."""

    def __init__(self, x: XServer, args: Sequence[str], home: Path, name: str = "app") -> None:
        self.x = x
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.probe = home / f"{name}.probe.json"
        self.probe.unlink(missing_ok=True)
        self.log = home / f"{name}.stderr.txt"
        env = x.env(HOME=str(home), AFFECTTRACE_PROBE=str(self.probe), PYTHONPATH=str(REPO))
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), *args], cwd=REPO, env=env,
                                         stdout=subprocess.DEVNULL, stderr=err)
        self.window_id = ""

    # --- state ---
    def state(self) -> dict:
        try:
            return json.loads(self.probe.read_text())
        except (OSError, ValueError):
            return {}

    def stderr(self) -> str:
        try:
            return self.log.read_text()[-3000:]
        except OSError:
            return ""

    def _details(self) -> str:
        s = self.state()
        brief = {k: s.get(k) for k in ("position", "playing", "focus", "modal", "loop", "marks", "annotator",
                                        "active", "errors")}
        return f"app exit: {self.proc.poll()}; state: {brief}; stderr: {self.stderr()}"

    def wait(self, cond: Callable[[dict], object], what: str, timeout_s: float = WAIT_S) -> dict:
        """The first probe state for which ``cond`` holds (the app must stay up meanwhile)."""
        def check():
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited ({self.proc.returncode}) while waiting for {what}: "
                                     f"{self.stderr()}")
            s = self.state()
            return s if s and cond(s) else None

        return wait_for(check, timeout_s, what, details=self._details)

    def wait_ready(self, frame: bool = True) -> dict:
        """The window is up, active, with the project's video on screen (when ``frame``)."""
        s = self.wait(lambda s: s.get("current", -1) >= 0 or not frame, "the window with a video frame",
                      START_TIMEOUT_S)
        ids = wait_for(lambda: self.x.run("xdotool", "search", "--onlyvisible", "--pid", str(s["pid"]),
                                          check=False).split(), WAIT_S, "the app's X window")
        self.window_id = ids[-1]
        if not self.state().get("active"):
            self.x.run("xdotool", "windowactivate", "--sync", self.window_id, check=False)
        return self.wait(lambda s: s["active"], "the window to be active")

    # --- input ---
    def key(self, *keys: str) -> None:
        self.x.key(*keys)

    def type(self, text: str) -> None:
        self.x.run("xdotool", "type", "--delay", "40", text)

    def click(self, rect: Sequence[int]) -> None:
        self.x.click_rect(rect)

    def menu(self, *path: str) -> None:
        """Click through the menu bar: menu('View', 'Panels', 'Compare')."""
        for depth, text in enumerate(path):
            item = self.wait(lambda s: _item(s, text, depth), f"menu item {text!r}")
            self.click(_item(item, text, depth)["rect"])

    # --- the end ---
    def quit(self, timeout_s: float = WAIT_S) -> int:
        """Ctrl+Q, as a person quits; the exit status (the test fails when the app does not exit)."""
        self.key("ctrl+q")
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the app did not quit after Ctrl+Q: {self._details()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _item(state: dict, text: str, depth: int) -> dict | None:
    for m in state.get("menus", []):
        if (m["menu"] == "") == (depth == 0) and m["text"].rstrip("…").startswith(text):
            return m
    return None
