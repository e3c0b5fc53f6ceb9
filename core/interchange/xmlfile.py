"""Reading other tools' files safely: a size limit, regular files only, XML without DTDs or entities."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import AffectTraceError, LabelFileError
from ..fsio import read_regular
from ..safepaths import require_file

MAX_BYTES = 512 * 1024 * 1024
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_input(path: Path, error: type[AffectTraceError] = LabelFileError, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes: a FIFO, device or folder (or a link to one) is
    refused by fstat of a non-blocking descriptor, never waited on."""
    require_file(path, error)  # 'file not found' rather than the bare errno text
    return read_regular(path, error, limit)


def parse_xml(path: Path, data: bytes, what: str) -> ET.Element:
    """The root of an XML document; a DTD or entity declaration (XML bombs, outside files) is refused."""
    if _DTD.search(data[:65536]):
        raise LabelFileError(f"{what} declares a DTD or entities, which are not allowed", path)
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise LabelFileError(f"malformed XML ({e})", path) from None
