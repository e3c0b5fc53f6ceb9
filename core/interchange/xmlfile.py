"""Reading other tools' files safely: a size limit, regular files only, XML without DTDs or entities."""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import AffectTraceError, LabelFileError
from ..safepaths import require_file

MAX_BYTES = 512 * 1024 * 1024
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_input(path: Path, error: type[AffectTraceError] = LabelFileError, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file (a FIFO or folder is refused by stat, never opened) of at most ``limit`` bytes."""
    require_file(path, error)
    try:
        size = os.stat(path).st_size
        if size > limit:
            raise error(f"is {size:,} bytes, more than the {limit:,} this file may hold", path)
        return path.read_bytes()
    except OSError as e:
        raise error(f"cannot read: {e.strerror or e}", path) from None


def parse_xml(path: Path, data: bytes, what: str) -> ET.Element:
    """The root of an XML document; a DTD or entity declaration (XML bombs, outside files) is refused."""
    if _DTD.search(data[:65536]):
        raise LabelFileError(f"{what} declares a DTD or entities, which are not allowed", path)
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise LabelFileError(f"malformed XML ({e})", path) from None
