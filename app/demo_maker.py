"""The demo's first start: the demo project is generated in a worker thread (app/background.py), with a
progress bar in the status bar and a line on the start page, while the window stays responsive; it is
opened when ready unless the user opened something else meanwhile. Quitting stops the generation and
leaves no half-made demo (core.demo.create_demo removes what it made when interrupted)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QProgressBar

from core.errors import AffectTraceError

from .background import Background, current_task

if TYPE_CHECKING:
    from .context import WindowContext

KEY = "demo"


class DemoStopped(AffectTraceError):
    """The window asked the generation to stop (it is closing)."""


def _make(folder: Path, duration_s: float) -> Path:
    from core.demo import create_demo

    task = current_task()

    def progress(done: int, total: int | None, message: str = "") -> None:
        if task is not None:
            if task.cancelled:
                raise DemoStopped("the demo's generation was stopped")
            task.progress(done, total, message)

    folder.parent.mkdir(parents=True, exist_ok=True)
    create_demo(folder, duration_s=duration_s, progress=progress).close()
    return folder


class DemoMaker(QObject):
    ready = Signal(str)  # the folder, generated (opened unless something else was opened meanwhile)

    def __init__(self, ctx: WindowContext, open_project: Callable[[Path], bool]) -> None:
        super().__init__(ctx.app.window)
        self.ctx, self.open_project = ctx, open_project
        win = ctx.app.window
        self.bg: Background[Path] = Background(self, threads=1)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setFormat("demo %p%")
        self.bar.hide()
        win.statusBar().addPermanentWidget(self.bar)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @property
    def busy(self) -> bool:
        return self.bg.running(KEY) is not None

    def start(self, folder: Path, duration_s: float) -> None:
        """Generate the demo in ``folder`` (new) in the background; the window opens it when ready."""
        if self.busy:
            return
        self.bar.setRange(0, 0)
        self.bar.show()
        self._say("Making the demo project (first start only)…")
        self.bg.submit(lambda: _make(folder, duration_s), self._done, key=KEY, progress=self._progress)

    def _progress(self, done: int, total: int | None, _message: str) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self._say(f"Making the demo project (first start only): {100 * done // total} %")

    def _say(self, text: str) -> None:
        self.ctx.app.window.statusBar().showMessage(text)
        if self.ctx.app.session.project is None:
            self.ctx.views.start_page.show_message(text)

    def _done(self, folder: Path | None, error: str) -> None:
        self.bar.hide()
        status = self.ctx.app.window.statusBar()
        status.clearMessage()
        if error or folder is None:
            self.ctx.notices.error(f"could not make the demo project: {error}")
            return
        self.ready.emit(str(folder))
        if self.ctx.app.session.project is None:
            self.ctx.views.start_page.show_message("")
            self.open_project(folder)
        else:
            status.showMessage(f"The demo project is ready: File > Open the demo ({folder})", 10000)

    def shutdown(self) -> None:
        """Stop a generation (the window is closing); it removes what it made."""
        self.bg.shutdown(30000)
