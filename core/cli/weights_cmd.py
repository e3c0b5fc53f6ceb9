"""`affecttrace weights`: model weight files in the per-user and the system-wide folder.

    affecttrace weights [list] [--json]                 what is where, with SHA-256
    affecttrace weights install FILE [--user] [--name N] [--force]
                                                        check FILE, then copy it to the system-wide
                                                        folder (every user sees it) or your own
    affecttrace weights unpack [--user]                 packaged build: unpack dlib's 68-point model
                                                        (carried compressed) there now, not on first use
"""
from __future__ import annotations

import argparse
from typing import Any

from .reporting import add_events_flag, report


def register(sub: Any) -> None:
    p = sub.add_parser("weights", help="list or install model weights (fan backend, lab checkpoints)",
                       description="Model weights live in a per-user folder (torch's hub checkpoints "
                       "folder) and a system-wide folder every user of the machine sees "
                       "($AFFECTTRACE_SYSTEM_WEIGHTS, default /opt/affecttrace/weights). Nothing is downloaded: "
                       "`install` checks a file you have (known names by their published hash, any file by "
                       "loading it safely) and copies it there.")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_events_flag(p)
    p.set_defaults(func=run_list)
    sub2 = p.add_subparsers(dest="weights_action", metavar="ACTION")
    ls = sub2.add_parser("list", help="the files in both folders, with size and SHA-256")
    ls.add_argument("--json", action="store_true", help="print JSON")
    add_events_flag(ls)
    ls.set_defaults(func=run_list)
    ins = sub2.add_parser("install", help="check a weights file and copy it into a weights folder")
    ins.add_argument("file", help="the weights file (e.g. s3fd-619a316812.pth, 2DFAN4-11f355bf06.pth.tar, "
                     "a checkpoint best.pt)")
    ins.add_argument("--user", action="store_true", help="into your own folder instead of the system-wide one")
    ins.add_argument("--name", help="install under this file name (default: the file's own)")
    ins.add_argument("--force", action="store_true", help="replace a file of the same name with other content")
    ins.add_argument("--json", action="store_true", help="print JSON")
    add_events_flag(ins)
    ins.set_defaults(func=run_install)
    unp = sub2.add_parser("unpack", help="packaged build: unpack dlib's 68-point model, which it carries "
                          "compressed, into the system-wide folder now (else the dlib backend does it on "
                          "first use)")
    unp.add_argument("--user", action="store_true", help="into your own folder instead of the system-wide one")
    unp.add_argument("--json", action="store_true", help="print JSON")
    add_events_flag(unp)
    unp.set_defaults(func=run_unpack)


def run_list(args: argparse.Namespace) -> int:
    from ..weights import listing, missing_fan, system_folder, user_folder

    files = listing()
    out: dict[str, Any] = {"folders": {"user": str(user_folder()), "system": str(system_folder())},
           "files": [f.to_dict() for f in files], "fan_missing": missing_fan()}
    text = [f"user:   {out['folders']['user']}", f"system: {out['folders']['system']}"]
    if not files:
        text.append("no weights files in either folder")
    for f in files:
        use = f"  ({f.use})" if f.use else ""
        text.append(f"{f.folder:<6}  {f.name}  {f.size / 1e6:.1f} MB  sha256 {f.sha256}{use}")
    if out["fan_missing"]:
        text.append(f"fan backend: missing {', '.join(out['fan_missing'])} "
                    "(install with: affecttrace weights install FILE)")
    else:
        text.append("fan backend: both weights files present")
    report(args, out, text)
    return 0


def run_install(args: argparse.Namespace) -> int:
    from ..weights import install

    to = "user" if args.user else "system"
    entry, what = install(args.file, to=to, name=args.name, force=args.force)
    out = {**entry.to_dict(), "check": what}
    report(args, out, [f"installed {entry.path} ({to} folder)", f"  {what}", f"  sha256 {entry.sha256}"])
    return 0


def run_unpack(args: argparse.Namespace) -> int:
    from ..faces.backends.dlib_backend import shipped_model
    from ..weights import PACKED, unpack

    model = shipped_model()
    packed = model.with_name(model.name + PACKED)
    if not packed.exists():
        report(args, {"unpacked": []}, [f"nothing to unpack: {model.name} is not packed here ({model.parent})"])
        return 0
    entry = unpack(packed, "user" if args.user else "system")
    report(args, {"unpacked": [entry.to_dict()]}, [f"unpacked {entry.path} ({entry.folder} folder)",
                                                   f"  sha256 {entry.sha256}"])
    return 0
