"""Entry point of the packaged build: one executable, two names.

Started as ``affecttrace-gui`` (a symbolic link beside the executable on Linux and macOS, its own
windowed launcher on Windows) it opens the annotation app; under any other name it is the
``affecttrace`` command line. Both share one Python archive and one set of libraries.
"""
import multiprocessing
import os
import sys

GUI_NAME = "affecttrace-gui"


def main() -> int:
    multiprocessing.freeze_support()
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0].lower()
    if name == GUI_NAME:
        from app.launch import main as gui

        return gui()
    from core.cli.main import main as cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
