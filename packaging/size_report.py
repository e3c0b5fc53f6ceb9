"""Size report of a one-folder build: total, file count, biggest folders and files, the newest glibc
symbol version any binary needs (the minimum OS) and the libraries it expects from the host (with
the bundled binaries that link each: make_packages.sh tells Depends from Recommends by them).

    python packaging/size_report.py dist/AffectTrace [--top 15] [--max-mb 850]

Prints JSON, then a one-line summary; with --max-mb, exits with status 1 when the build is bigger.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from elf import elf_files, needed, readelf  # noqa: E402

MB = 1e6


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def host_requirements(folder: Path) -> dict[str, object]:
    """What the binaries need that the folder does not hold: libraries, glibc and libstdc++ versions."""
    files = elf_files(folder)
    inside = {f.name for f in files} | {p.name for p in folder.rglob("*") if p.is_symlink()}
    libs = sorted({n for f in files for n in needed(f)} - inside)
    users = {lib: sorted(str(f.relative_to(folder)) for f in files if lib in needed(f)) for lib in libs}
    glibc: set[str] = set()
    glibcxx: set[str] = set()
    for f in files:
        text = readelf(["-V"], f).partition("Version needs section")[2]
        glibc.update(re.findall(r"Name: GLIBC_([0-9.]+)", text))
        glibcxx.update(re.findall(r"Name: GLIBCXX_([0-9.]+)", text))
    return {"glibc": max(glibc, key=_version_key) if glibc else None,
            "glibcxx": max(glibcxx, key=_version_key) if glibcxx else None,
            "host_libraries": libs, "host_library_users": users}


def report(folder: Path, top: int = 15) -> dict[str, object]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    total = sum(p.stat().st_size for p in files)
    internal = folder / "_internal"
    groups: dict[str, int] = {}
    for p in files:
        rel = p.relative_to(internal) if internal in p.parents else p.relative_to(folder)
        key = rel.parts[0] if len(rel.parts) > 1 else "(top-level files)"
        groups[key] = groups.get(key, 0) + p.stat().st_size
    biggest = sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:top]
    return {
        "folder": str(folder), "size_mb": round(total / MB, 1), "size_mib": round(total / 2**20, 1),
        "files": len(files),
        "biggest_folders_mb": {k: round(v / MB, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:top]},
        "biggest_files_mb": {str(p.relative_to(folder)): round(p.stat().st_size / MB, 1) for p in biggest},
        **host_requirements(folder),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--max-mb", type=float, default=0, help="fail above this size in MB (0: no limit)")
    args = ap.parse_args()
    r = report(args.folder, args.top)
    print(json.dumps(r, indent=2))
    print(f"build {r['folder']}: {r['size_mb']} MB ({r['size_mib']} MiB) in {r['files']} files; "
          f"needs glibc >= {r['glibc']}, GLIBCXX {r['glibcxx']}; {len(r['host_libraries'])} host libraries")
    size = r["size_mb"]
    if args.max_mb and isinstance(size, float) and size > args.max_mb:
        print(f"build {r['folder']}: {r['size_mb']} MB is over the {args.max_mb:g} MB budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
