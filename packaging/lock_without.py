"""Print a pip-compile lock file without some of its distributions (their pin and hash lines):

    python packaging/lock_without.py requirements/dev.lock torch

dev.sh uses it to keep a CUDA torch that was installed by hand on a GPU workstation.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")


def without(text: str, names: set[str]) -> str:
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        m = _PIN.match(line)
        if m:
            skipping = m.group(1).lower().replace("_", "-") in names
        elif not line.startswith((" ", "\t")):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(without(Path(sys.argv[1]).read_text(), {n.lower() for n in sys.argv[2:]}))
