"""Stand-ins for shared libraries the packaged build leaves out (finish.py).

A library that another binary links but never calls in any AffectTrace feature (OpenCV's Qt 5 window
code, FFmpeg's x265 and SVT-AV1 encoders) cannot simply be deleted: the dynamic linker resolves
every symbol a module imports when it loads the module. Its stand-in has the same file name and
defines exactly the symbols (with their version nodes) that the remaining binaries import from it:

- a function writes ``affecttrace: <library> is left out of this build (<symbol> called)`` to
  stderr and ends the process with status 70, unless ``answers`` gives it a value to return: the
  library's own "not available" (``x265_api_get`` -> NULL, asked when FFmpeg lists its encoders), or
  a harmless result for what runs when the importer loads (Qt resources and static objects);
- a data object keeps its size and the bytes the original file holds for it (pointers in it read as
  null), so a constant such as Qt's shared empty array reads as before.

Made with the GNU assembler and linker (binutils): no compiler, no C library.
"""
from __future__ import annotations

import fnmatch
import subprocess
import tempfile
from pathlib import Path

from elf import Symbol, dynamic_symbols, sections, soname, symbol_bytes

EXIT_STATUS = 70  # EX_SOFTWARE
MARK = b"affecttrace build stand-in for "  # in every stand-in's bytes: licenses.py tells them by it
_FAIL = ["  mov $2, %edi", "  mov $1, %eax", "  syscall",  # write(2, message, length)
         f"  mov ${EXIT_STATUS}, %edi", "  mov $231, %eax", "  syscall", "  hlt"]  # exit_group(70)


def imports_from(original: Path, importers: list[Path]) -> list[Symbol]:
    """The symbols ``original`` defines that the importers take from it (weak references left out:
    they resolve to null without it)."""
    defined = {s.name: s for s in dynamic_symbols(original) if s.defined}
    wanted: dict[str, Symbol] = {}
    for imp in importers:
        for s in dynamic_symbols(imp):
            d = defined.get(s.name)
            if not s.defined and s.bind != "WEAK" and d is not None:
                wanted[s.name] = Symbol(s.name, s.version or d.version, d.kind, d.bind, d.size, d.value, d.section)
    return sorted(wanted.values(), key=lambda s: s.name)


def assembly(library: str, symbols: list[Symbol], data: dict[str, bytes], answers: dict[str, int]) -> str:
    text = ['.section .note.GNU-stack,"",@progbits', ".text", ".Lfail:", *_FAIL]
    messages = [".section .rodata", f'.Lmark: .ascii "{MARK.decode()}{library}\\n"']
    objects = [".data"]
    for i, s in enumerate(symbols):
        if s.kind in ("FUNC", "IFUNC", "NOTYPE"):
            text += [f".globl {s.name}", f".type {s.name}, @function", f"{s.name}:"]
            answer = next((v for pattern, v in answers.items() if fnmatch.fnmatchcase(s.name, pattern)), None)
            if answer is not None:
                text += [f"  movabs ${answer}, %rax", "  ret"]
                continue
            message = f"affecttrace: {library} is left out of this build ({s.name} called)"
            text += [f"  lea .Lm{i}(%rip), %rsi", f"  mov ${len(message) + 1}, %edx", "  jmp .Lfail"]
            messages.append(f'.Lm{i}: .ascii "{message}\\n"')
        elif s.kind in ("OBJECT", "COMMON"):
            blob = data[s.name]
            objects += [".balign 32", f".globl {s.name}", f".type {s.name}, @object", f".size {s.name}, {len(blob)}",
                        f"{s.name}:", "  .byte " + ",".join(str(b) for b in blob)]
        else:
            raise SystemExit(f"stubs: {library}: cannot stand in for the {s.kind} symbol {s.name}")
    return "\n".join(text + messages + objects) + "\n"


def version_script(symbols: list[Symbol]) -> str:
    """One version node per version the importers ask for (unversioned names go in the first)."""
    nodes: dict[str, list[str]] = {}
    for s in symbols:
        nodes.setdefault(s.version or "", []).append(s.name)
    if set(nodes) == {""}:
        return "{ global: *; };\n"
    versions = sorted(v for v in nodes if v)
    lines = []
    for i, version in enumerate(versions):
        names = nodes[version] + (nodes.get("", []) if i == 0 else [])
        local = " local: *;" if i == 0 else ""
        lines.append(f"{version} {{ global:{''.join(f' {n};' for n in names)}{local} }};")
    return "\n".join(lines) + "\n"


def make_stub(original: Path, importers: list[Path], answers: dict[str, int] | None = None) -> int:
    """Replace ``original`` (in place) by its stand-in; returns how many symbols it defines."""
    symbols = imports_from(original, importers)
    table = sections(original)
    data = {s.name: symbol_bytes(original, s, table) for s in symbols if s.kind in ("OBJECT", "COMMON")}
    with tempfile.TemporaryDirectory() as tmp:
        src, obj, script, out = (Path(tmp) / n for n in ("stub.s", "stub.o", "stub.map", "stub.so"))
        src.write_text(assembly(original.name, symbols, data, answers or {}))
        script.write_text(version_script(symbols))
        subprocess.run(["as", "--64", "-o", str(obj), str(src)], check=True)
        subprocess.run(["ld", "-shared", "-soname", soname(original), "--hash-style=both", "-z", "noexecstack",
                        "--version-script", str(script), "-o", str(out), str(obj)], check=True)
        out.replace(original)
    return len(symbols)
