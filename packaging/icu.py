"""ICU data for Qt, without the parts Qt 6 never reads (finish.py).

Qt's ICU data library (``libicudata.so.NN``, 32 MB) is one ICU common-data package in a single
symbol (``icudtNN_dat``). Qt 6 uses ICU for collation (QCollator), locale-aware case mapping and
time zones; its own CLDR tables give locale names, number and date formats, and it splits text and
converts encodings (UTF-8 local 8-bit on Linux) without ICU. Left out: break-iterator rules and
dictionaries, transliterators, spelled-out numbers, unit, currency, language, region and time-zone
display names, and the legacy character-set converters (about 23 MB). What remains is the same
package with a shorter table of contents, rebuilt into a library of the same name (binutils).

The package layout (ICU's udata.cpp, "CmnD"): a header of ``headerSize`` bytes, then at that offset
a table of contents, ``count`` and ``count`` pairs of (name offset, data offset) relative to it, the
NUL-terminated item names in sorted order, then the items, each 16-byte aligned.
"""
from __future__ import annotations

import fnmatch
import struct
import subprocess
import tempfile
from pathlib import Path

from elf import dynamic_symbols, sections, soname, symbol_bytes

LEFT_OUT = ("*/brkitr/*", "*/translit/*", "*/rbnf/*", "*/unit/*", "*/curr/*", "*/lang/*", "*/region/*",
            "*/zone/*", "*.cnv")


def items(package: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(header, [(name, item bytes)]) of an ICU common-data package."""
    header_size = struct.unpack_from("<H", package, 0)[0]
    if package[2:4] != b"\xda\x27" or package[12:16] != b"CmnD":
        raise SystemExit("icu: not an ICU common-data package")
    count = struct.unpack_from("<I", package, header_size)[0]
    toc = [struct.unpack_from("<II", package, header_size + 4 + 8 * i) for i in range(count)]
    starts = [header_size + data for _, data in toc] + [len(package)]
    out = []
    for i, (name_at, _) in enumerate(toc):
        at = header_size + name_at
        name = package[at:package.index(b"\0", at)].decode("ascii")
        out.append((name, package[starts[i]:starts[i + 1]]))
    return package[:header_size], out


def pack(header: bytes, entries: list[tuple[str, bytes]]) -> bytes:
    """The package of ``entries`` (sorted by name, as ICU's binary search needs)."""
    entries = sorted(entries)
    names = b"".join(n.encode("ascii") + b"\0" for n, _ in entries)
    toc_size = 4 + 8 * len(entries)
    data_at = toc_size + len(names)
    data_at += -data_at % 16
    toc, blobs, offset = [], [], data_at
    name_at = toc_size
    for name, blob in entries:
        blob = blob + bytes(-len(blob) % 16)
        toc.append(struct.pack("<II", name_at, offset))
        name_at += len(name) + 1
        offset += len(blob)
        blobs.append(blob)
    body = struct.pack("<I", len(entries)) + b"".join(toc) + names
    return header + body + bytes(data_at - len(body)) + b"".join(blobs)


def trim(library: Path) -> tuple[int, int]:
    """Rebuild ``library`` without the LEFT_OUT items; returns (bytes before, bytes after)."""
    symbol = next(s for s in dynamic_symbols(library) if s.defined and s.name.startswith("icudt"))
    header, entries = items(symbol_bytes(library, symbol, sections(library)))
    kept = [(n, b) for n, b in entries if not any(fnmatch.fnmatchcase(n, p) for p in LEFT_OUT)]
    package = pack(header, kept)
    before = library.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        data, src, obj, out = (Path(tmp) / n for n in ("icudt.dat", "icudt.s", "icudt.o", "lib.so"))
        data.write_bytes(package)
        src.write_text(f'.section .note.GNU-stack,"",@progbits\n.section .rodata\n.balign 16\n'
                       f".globl {symbol.name}\n.type {symbol.name}, @object\n.size {symbol.name}, {len(package)}\n"
                       f'{symbol.name}:\n.incbin "{data}"\n')
        subprocess.run(["as", "--64", "-o", str(obj), str(src)], check=True)
        subprocess.run(["ld", "-shared", "-soname", soname(library), "--hash-style=both", "-z", "noexecstack",
                        "-o", str(out), str(obj)], check=True)
        out.replace(library)
    return before, library.stat().st_size
