"""Entry point of the packaged build: one executable, two names.

Started as ``affecttrace-gui`` (a symbolic link beside the executable on Linux and macOS, its own
windowed launcher on Windows) it opens the annotation app; under any other name it is the
``affecttrace`` command line. Both share one Python archive and one set of libraries.
"""
import multiprocessing
import os
import sys

GUI_NAME = "affecttrace-gui"


def qt_setup() -> None:
    """What PyInstaller's PySide6 run-time hook does, for the GUI only: the spec leaves that hook out
    because it runs in every start and imports QtCore (and with it ICU's data) to register qt.conf,
    which made each command-line start 0.4 s slower. Qt's plugin folder, then qt.conf's prefix."""
    from _pyi_rth_utils import qt as qt_rth_utils  # noqa: PLC2701  (PyInstaller's helper for its Qt hooks)

    base = getattr(sys, "_MEIPASS", os.path.dirname(os.path.abspath(__file__)))
    qt = os.path.join(base, "PySide6") if sys.platform.startswith("win") else os.path.join(base, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")
    os.environ["QML2_IMPORT_PATH"] = os.path.join(qt, "qml")
    qt_rth_utils.create_embedded_qt_conf("PySide6", qt)


def main() -> int:
    multiprocessing.freeze_support()
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0].lower()
    if name == GUI_NAME:
        qt_setup()
        from app.launch import main as gui

        return gui()
    from core.cli.main import main as cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
