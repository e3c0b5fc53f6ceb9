"""`affecttrace` command line: one subcommand module per engine action.

Each module in COMMANDS (from COMMAND_MODULES) has ``register(subparsers)`` that adds its parser and sets ``func``
(a callable taking the parsed args and returning an exit code). The GUI's worker calls the same
commands, so every engine action is reachable here.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

# Each command and the module that registers it (add a command here), so that starting one command
# imports only its module (`affecttrace info` must not pay for torch's or OpenCV's imports);
# tests/test_cli_startup.py checks this table against what the modules register.
COMMAND_MODULES: dict[str, str] = {
    "project": "core.cli.store_cmds", "info": "core.cli.media_cmds", "frame": "core.cli.media_cmds",
    "demo": "core.cli.demo_cmd", "faces": "core.cli.faces_cmd", "train": "core.cli.train_cmd",
    "predict": "core.cli.predict_cmd", "models": "core.cli.models_cmd",
    "import-affwild2": "core.cli.interchange_cmds", "export-affwild2": "core.cli.interchange_cmds",
    "import-csv": "core.cli.interchange_cmds", "export-csv": "core.cli.interchange_cmds",
    "import-openface": "core.cli.tool_cmds", "import-pyfeat": "core.cli.tool_cmds",
    "import-elan": "core.cli.elan_nova_cmds", "export-elan": "core.cli.elan_nova_cmds",
    "import-nova": "core.cli.elan_nova_cmds", "export-nova": "core.cli.elan_nova_cmds",
    "evaluate": "core.cli.evaluate_cmd", "import-images": "core.cli.images_cmds",
    "evaluate-images": "core.cli.images_cmds", "compare": "core.cli.compare_cmd",
    "suggest": "core.cli.suggest_cmd", "accept": "core.cli.accept_cmd",
    "agreement": "core.cli.agreement_cmds", "fuse": "core.cli.agreement_cmds",
    "weights": "core.cli.weights_cmd",
}
# The modules, in the order of `affecttrace --help`.
COMMANDS: tuple[str, ...] = tuple(dict.fromkeys(COMMAND_MODULES.values()))


def _modules_for(argv: list[str]) -> tuple[str, ...]:
    """The command modules a parse of ``argv`` needs: the command's own, or all of them (help,
    an unknown command, an option before the command)."""
    first = argv[0] if argv else ""
    module = COMMAND_MODULES.get(first)
    return (module,) if module in COMMANDS else COMMANDS


def build_parser(modules: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The parser with the commands of ``modules`` (default: every command)."""
    from .options import OneLineParser

    parser = OneLineParser(
        prog="affecttrace",
        description="AffectTrace: annotate valence-arousal, expressions and action units; "
        "train and run multi-task affect models.",
    )
    parser.add_argument("--version", action="version", version=f"affecttrace {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if modules is None else modules:
        importlib.import_module(name).register(sub)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("affecttrace")
    except Exception:
        return "dev"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:  # answered before any command module loads
        print(f"affecttrace {_version()}")
        return 0
    from ..parentwatch import stop_with_parent
    from ..userdirs import keep_library_caches_home
    from .reporting import end_status, open_stream

    keep_library_caches_home()
    _names_as_bytes()
    parser = build_parser(_modules_for(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    stop_with_parent()  # a job of the app: stops cleanly when the app goes, even killed
    stream = open_stream(args)  # --events: start / error / end are emitted here for every command
    code = _dispatch(args)
    if stream is not None:
        stream.emit("end", status=end_status(args, code), code=code)
        stream.close()
    return code


def _names_as_bytes() -> None:
    """File names that are not UTF-8 reach Python as surrogates: print them as their own bytes (UTF-8
    output) or escaped, never fail on them (a UnicodeEncodeError after the work is done)."""
    for stream, fallback in ((sys.stdout, "backslashreplace"), (sys.stderr, "backslashreplace")):
        utf8 = (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"
        try:
            stream.reconfigure(errors="surrogateescape" if utf8 else fallback)  # type: ignore[union-attr]
        except (AttributeError, ValueError):  # a replaced stream (tests, the app's capture)
            pass


def _dispatch(args: argparse.Namespace) -> int:
    from ..errors import AffectTraceError

    try:
        with warnings.catch_warnings():
            if not os.environ.get("AFFECTTRACE_DEBUG"):  # numpy's "Mean of empty slice" is no news to a user
                warnings.simplefilter("ignore", RuntimeWarning)
            return int(args.func(args) or 0)
    except AffectTraceError as e:
        return _fail(args, "error", str(e), 1)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        return _fail(args, "error", f"{e.filename}: {e.strerror}", 1)
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        return _fail(args, "error", f"{where}{e.strerror or e}", 1)
    except KeyboardInterrupt:
        print(f"affecttrace {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: still one line unless asked for the traceback
        if os.environ.get("AFFECTTRACE_DEBUG"):
            raise
        first = (str(e).splitlines() or [""])[0][:200]
        return _fail(args, "internal error", f"{type(e).__name__}: {first} (set AFFECTTRACE_DEBUG=1 for the "
                     "traceback)", 3)


def _fail(args: argparse.Namespace, kind: str, text: str, code: int) -> int:
    """One line on stderr (and an 'error' event with --events); returns the exit code."""
    from .reporting import stream_of

    text = " ".join(part.strip() for part in text.splitlines())  # a library's message may span lines
    print(f"affecttrace {args.command}: {kind}: {text}", file=sys.stderr)
    stream = stream_of(args)
    if stream is not None:
        stream.emit("error", text=text if kind == "error" else f"{kind}: {text}", code=code)
    return code


if __name__ == "__main__":
    sys.exit(main())
