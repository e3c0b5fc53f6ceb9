"""Reading ELF binaries for the Linux build steps (finish.py, stubs.py, size_report.py), through
binutils' readelf."""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_SYM = re.compile(r"^\s*\d+:\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+?)"
                  r"(?:@@?(\S+?))?(?:\s+\(\d+\))?\s*$")
_SECTION = re.compile(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]


def readelf(args: list[str], path: Path) -> str:
    return subprocess.run(["readelf", "--wide", *args, str(path)], capture_output=True, text=True, check=True).stdout


_needed: dict[Path, list[str]] = {}


def needed(path: Path) -> list[str]:
    """The libraries ``path`` links (DT_NEEDED); cached until ``forget(path)``."""
    if path not in _needed:
        _needed[path] = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf(["-d"], path))
    return _needed[path]


def forget(path: Path) -> None:
    _needed.pop(path, None)


def search_dirs(path: Path) -> list[Path]:
    """The folders ``path``'s RUNPATH or RPATH names ($ORIGIN expanded)."""
    m = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", readelf(["-d"], path))
    entries = m.group(1).split(":") if m else []
    return [Path(os.path.normpath(e.replace("$ORIGIN", str(path.parent)))) for e in entries if e]


def has_symtab(path: Path) -> bool:
    return ".symtab" in readelf(["-S"], path)


def soname(path: Path) -> str:
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", readelf(["-d"], path))
    return m.group(1) if m else path.name


@dataclass(frozen=True)
class Symbol:
    name: str
    version: str | None
    kind: str  # FUNC, OBJECT, ...
    bind: str  # GLOBAL, WEAK
    size: int
    value: int
    section: str  # a section index, or UND / ABS / COM

    @property
    def defined(self) -> bool:
        return self.section != "UND"


def dynamic_symbols(path: Path) -> list[Symbol]:
    out = []
    for line in readelf(["--dyn-syms"], path).splitlines():
        m = _SYM.match(line)
        if m:
            value, size, kind, bind, ndx, name, version = m.groups()
            out.append(Symbol(name, version, kind, bind, int(size, 0), int(value, 16), ndx))
    return out


def sections(path: Path) -> dict[str, tuple[str, int, int]]:
    """section index -> (type, address, file offset)"""
    found = {}
    for line in readelf(["-S"], path).splitlines():
        m = _SECTION.match(line)
        if m:
            found[m.group(1)] = (m.group(3), int(m.group(4), 16), int(m.group(5), 16))
    return found


def symbol_bytes(path: Path, sym: Symbol, table: dict[str, tuple[str, int, int]]) -> bytes:
    """The initial bytes of a data symbol as the file holds them (zeros for .bss; relocated pointers
    read as their unrelocated value), at least 8 bytes."""
    size = max(sym.size, 8)
    sec = table.get(sym.section)
    if sec is None or sec[0] == "NOBITS":
        return bytes(size)
    with open(path, "rb") as f:
        f.seek(sym.value - sec[1] + sec[2])
        data = f.read(sym.size)
    return data + bytes(size - len(data))
