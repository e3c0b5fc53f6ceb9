"""NOVA / SSI annotation pairs: the ``.annotation`` XML header and the ``.annotation~`` data file.

Header: ``<annotation ssi-v="3">`` with ``<info ftype="ASCII|BINARY" size="N"/>``, ``<meta annotator=…
role=…/>`` and ``<scheme name=… type=DISCRETE|CONTINUOUS|FREE …>`` (DISCRETE lists ``<item name id/>``;
CONTINUOUS has ``sr``, ``min``, ``max``). Data, one record per segment or sample:
  DISCRETE    ASCII ``from;to;id;confidence`` (seconds)      BINARY float64 from, float64 to, int32 id, float32 conf
  CONTINUOUS  ASCII ``score;confidence`` at ``sr`` Hz        BINARY float32 score, float32 conf
  FREE        ASCII ``from;to;"text";confidence``            BINARY float64, float64, int32 length, bytes, float32
Binary is little-endian and packed. A missing continuous sample is NaN. ``size`` is the record count:
a data file that holds fewer (or more) records than its header says is refused. A DISCRETE label id -1
that the scheme does not list is NOVA's rest class.
"""
from __future__ import annotations

import csv
import io
import math
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import LabelFileError
from ..fsio import scan_table
from ..safepaths import excerpt
from .framerule import exact_time
from .xmlfile import parse_xml, read_input

SCHEME_TYPES = ("DISCRETE", "CONTINUOUS", "FREE")
FTYPES = ("ASCII", "BINARY")
_DISCRETE = struct.Struct("<ddif")
GARBAGE_ID = -1  # NOVA's rest ("garbage") class
_CONTINUOUS = np.dtype([("score", "<f4"), ("conf", "<f4")])


@dataclass
class Segment:
    start: Fraction
    end: Fraction
    label: str  # the item name (DISCRETE) or the text (FREE)
    conf: float
    line: int
    garbage: bool = False  # NOVA's rest class (id -1 in a DISCRETE scheme without such an item)


@dataclass
class NovaScheme:
    name: str
    type: str
    items: dict[int, str] = field(default_factory=dict)  # DISCRETE: id -> name
    sr: Fraction = Fraction(0)
    min: float = 0.0
    max: float = 1.0
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class NovaAnnotation:
    path: Path
    ftype: str
    scheme: NovaScheme
    annotator: str = ""
    role: str = ""
    segments: list[Segment] = field(default_factory=list)
    samples: np.ndarray | None = None  # CONTINUOUS: (n, 2) float64 score, confidence


def data_path(header: Path) -> Path:
    return header.with_name(header.name + "~")


def _fail(path: Path, problem: str, line: int | None = None) -> LabelFileError:
    return LabelFileError(problem, path, line)


def read_nova(path: str | Path) -> NovaAnnotation:
    path = Path(path)
    root = parse_xml(path, read_input(path), "the NOVA header")
    if root.tag != "annotation":
        raise _fail(path, f"not a NOVA annotation header (root element <{excerpt(root.tag, 40)[1:-1]}>)")
    info, meta, sch = root.find("info"), root.find("meta"), root.find("scheme")
    if info is None or sch is None:
        raise _fail(path, "the header lacks <info> or <scheme>")
    ftype = (info.get("ftype") or "").upper()
    if ftype not in FTYPES:
        raise _fail(path, f"ftype {excerpt(info.get('ftype'))} is neither ASCII nor BINARY")
    try:
        size = int(info.get("size", "0"))
        if size < 0:
            raise ValueError
    except ValueError:
        raise _fail(path, f"size {excerpt(info.get('size'))} is not a record count") from None
    scheme = _scheme(path, sch)
    ann = NovaAnnotation(path, ftype, scheme, (meta.get("annotator", "") if meta is not None else "").strip(),
                         (meta.get("role", "") if meta is not None else "").strip())
    data = data_path(path)
    if not data.exists():
        if size:
            raise _fail(data, f"data file missing (the header announces {size} record(s))")
        ann.samples = np.zeros((0, 2)) if scheme.type == "CONTINUOUS" else None
        return ann
    if ftype == "ASCII":
        scan_table(data, LabelFileError, sep=";")  # no line over 1 MiB, before the whole file is read
    raw = read_input(data)
    if scheme.type == "CONTINUOUS":
        ann.samples = _continuous(data, raw, ftype, size, scheme)
    else:
        ann.segments = _segments(data, raw, ftype, size, scheme)
    return ann


def _scheme(path: Path, e: ET.Element) -> NovaScheme:
    kind = (e.get("type") or "").upper()
    if kind not in SCHEME_TYPES:
        raise _fail(path, f"unknown scheme type {excerpt(e.get('type'))} (NOVA has {', '.join(SCHEME_TYPES)})")
    s = NovaScheme(e.get("name", "").strip(), kind, attrs=dict(e.attrib))
    if kind == "DISCRETE":
        for item in e.findall("item"):
            try:
                i = int(item.get("id", ""))
            except ValueError:
                raise _fail(path, f"scheme item {excerpt(item.get('name'))}: id {excerpt(item.get('id'))} "
                            "is not a number") from None
            if i in s.items:
                raise _fail(path, f"scheme item id {i} is used twice")
            s.items[i] = item.get("name", "")
    elif kind == "CONTINUOUS":
        sr, lo, hi = (exact_time(e.get(k, "")) for k in ("sr", "min", "max"))
        if sr is None or sr <= 0 or lo is None or hi is None or not hi > lo:
            raise _fail(path, f"continuous scheme needs sr > 0 and min < max (got sr={e.get('sr')!r}, "
                        f"min={e.get('min')!r}, max={e.get('max')!r})")
        s.sr, s.min, s.max = sr, float(lo), float(hi)
    return s


def _short(path: Path, got: int, size: int) -> LabelFileError:
    if got < size:
        return _fail(path, f"data file holds {got} record(s), fewer than the {size} its header announces (truncated?)")
    return _fail(path, f"data file holds {got} record(s), more than the {size} its header announces")


def _continuous(path: Path, raw: bytes, ftype: str, size: int, scheme: NovaScheme) -> np.ndarray:
    if ftype == "BINARY":
        if len(raw) % _CONTINUOUS.itemsize:
            raise _fail(path, f"{len(raw)} bytes is not a whole number of {_CONTINUOUS.itemsize}-byte samples")
        rec = np.frombuffer(raw, _CONTINUOUS)
        out = np.stack([rec["score"], rec["conf"]], axis=1).astype(np.float64)
        lines = None
    else:
        rows = []
        lines = []
        for i, line in enumerate(_text(path, raw).splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split(";")
            try:
                rows.append((float(parts[0]), float(parts[1]) if len(parts) > 1 and parts[1].strip() else 1.0))
            except ValueError:
                raise _fail(path, f"{excerpt(line)} is not 'score;confidence'", i) from None
            lines.append(i)
        out = np.array(rows, np.float64).reshape(-1, 2)
    if len(out) != size:
        raise _short(path, len(out), size)
    tol = 1e-6 * (scheme.max - scheme.min)
    bad = np.isfinite(out[:, 0]) & ((out[:, 0] < scheme.min - tol) | (out[:, 0] > scheme.max + tol))
    bad |= np.isfinite(out[:, 1]) & ((out[:, 1] < 0) | (out[:, 1] > 1))
    if bad.any():
        k = int(np.argmax(bad))
        raise _fail(path, f"sample {k}: score {out[k, 0]:g} outside [{scheme.min:g}, {scheme.max:g}] or confidence "
                    f"{out[k, 1]:g} outside [0, 1]", lines[k] if lines else None)
    return out


def _text(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # SSI writes labels in the local code page


def _ascii_rows(path: Path, raw: bytes) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(_text(path, raw)), delimiter=";", quotechar='"'))
    except csv.Error as e:  # a cell over csv's field limit, an unclosed quote at the end
        raise _fail(path, f"not 'from;to;label;confidence' lines: {e}") from None


def _segments(path: Path, raw: bytes, ftype: str, size: int, scheme: NovaScheme) -> list[Segment]:
    rows: list[_Row] = []
    if ftype == "ASCII":
        for i, row in enumerate(_ascii_rows(path, raw), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise _fail(path, f"{excerpt(';'.join(row))} is not 'from;to;label;confidence'", i)
            conf = row[3].strip() if len(row) > 3 else "1"
            try:
                c = float(conf)
            except ValueError:
                raise _fail(path, f"confidence {excerpt(conf)} is not a number", i) from None
            rows.append((row[0], row[1], row[2], c, i))
    elif scheme.type == "DISCRETE":
        if len(raw) % _DISCRETE.size:
            raise _short(path, len(raw) // _DISCRETE.size, size) if len(raw) < size * _DISCRETE.size else \
                _fail(path, f"{len(raw)} bytes is not a whole number of {_DISCRETE.size}-byte segments")
        rows = [(a, b, str(i), float(c), k + 1) for k, (a, b, i, c) in enumerate(_DISCRETE.iter_unpack(raw))]
    else:
        rows = _free_binary(path, raw, size)
    if len(rows) != size:
        raise _short(path, len(rows), size)
    out = []
    for a, b, label, c, line in rows:
        # a binary float64 time is read as its shortest decimal text: 2.16 stays 2.16, not 2.16000000000000014
        ta, tb = exact_time(a if isinstance(a, str) else repr(a)), exact_time(b if isinstance(b, str) else repr(b))
        if ta is None or tb is None or ta < 0:
            raise _fail(path, f"segment times {a!r}..{b!r} are not times in seconds", line)
        if tb < ta:
            raise _fail(path, f"segment ends ({float(tb):g} s) before it starts ({float(ta):g} s)", line)
        if not (0 <= c <= 1) and not math.isnan(c):
            raise _fail(path, f"confidence {c:g} is outside [0, 1]", line)
        garbage = False
        if scheme.type == "DISCRETE":
            try:
                i = int(str(label).strip())
                garbage = i == GARBAGE_ID and i not in scheme.items
                label = "" if garbage else scheme.items[i]
            except (ValueError, KeyError):
                raise _fail(path, f"label id {excerpt(label)} is not an item of scheme {scheme.name!r}", line) from None
        out.append(Segment(ta, tb, str(label), c, line, garbage))
    return out


_Row = tuple[float | str, float | str, str, float, int]  # from, to, label, confidence, line (or record number)


def _free_binary(path: Path, raw: bytes, size: int) -> list[_Row]:
    rows: list[_Row] = []
    pos = 0
    head, tail = struct.Struct("<ddi"), struct.Struct("<f")
    while pos < len(raw):
        if pos + head.size > len(raw):
            raise _short(path, len(rows), size)
        a, b, n = head.unpack_from(raw, pos)
        pos += head.size
        if n < 0 or pos + n + tail.size > len(raw):
            raise _short(path, len(rows), size)
        text = raw[pos:pos + n].decode("latin-1")
        pos += n
        rows.append((a, b, text, tail.unpack_from(raw, pos)[0], len(rows) + 1))
        pos += tail.size
    return rows


# ------------------------------------------------------------------ writing

def header_bytes(scheme: NovaScheme, ftype: str, size: int, annotator: str, role: str) -> bytes:
    root = ET.Element("annotation", {"ssi-v": "3"})
    ET.SubElement(root, "info", {"ftype": ftype, "size": str(size)})
    ET.SubElement(root, "meta", {"annotator": annotator, "role": role})
    attrs = {"name": scheme.name, "type": scheme.type}
    if scheme.type == "CONTINUOUS":
        attrs |= {"sr": rate_text(scheme.sr), "min": f"{scheme.min:g}", "max": f"{scheme.max:g}"}
    sch = ET.SubElement(root, "scheme", attrs)
    for i, name in scheme.items.items():
        ET.SubElement(sch, "item", {"name": name, "id": str(i)})
    ET.indent(root, "    ")
    return b'<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def rate_text(sr: Fraction, decimals: int = 9) -> str:
    """A sample rate as decimal text, rounded *up* so that reading it back never maps a frame to the sample before."""
    if sr.denominator == 1:
        return str(sr.numerator)
    x = sr * 10 ** decimals
    units = -((-x.numerator) // x.denominator)
    return f"{units // 10 ** decimals}.{units % 10 ** decimals:0{decimals}d}".rstrip("0")


def discrete_bytes(rows: list[tuple[str, str, int, float]], ftype: str) -> bytes:
    """Segments (from text, to text, item id, confidence) as data-file bytes."""
    if ftype == "BINARY":
        return b"".join(_DISCRETE.pack(float(a), float(b), i, c) for a, b, i, c in rows)
    return "".join(f"{a};{b};{i};{c:.6g}\n" for a, b, i, c in rows).encode("utf-8")


def continuous_bytes(scores: np.ndarray, conf: np.ndarray, ftype: str) -> bytes:
    if ftype == "BINARY":
        rec = np.empty(len(scores), _CONTINUOUS)
        rec["score"], rec["conf"] = scores, conf
        return rec.tobytes()
    # str(float32) is the shortest text that reads back to the same float32
    return "".join(f"{'NaN' if not math.isfinite(s) else str(s)};{str(c)}\n"
                   for s, c in zip(scores.astype(np.float32), conf.astype(np.float32))).encode("utf-8")
