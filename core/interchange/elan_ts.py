"""ELAN's linked time series: a CSV of samples and its ``_tsconf.xml`` that tells ELAN which column is
time and which columns are tracks, so ELAN draws the curves under the video.

The CSV written here: a header line, then one row per video frame: ``time_s`` (the frame's display
time in seconds, rounded down to the µs, core.interchange.framerule), then one column per track
(``<track> valence``, ``<track> arousal``), each value the shortest text that reads back to the same
float32; unlabelled frames are ``NaN``. The configuration names
column 0 as time and each track's column (0-based, as ELAN counts them). Reading takes any such CSV
(comma, semicolon or tab separated; non-numeric lines before the first sample are a header) and
resamples it to frames by sample-and-hold (framerule.hold_samples).

As ELAN's CSV reader (mpi.eudico.client.annotator.timeseries.csv.CSVReader, ELAN 5.3 to 6.9) has it:
a line starting with ``#`` is skipped anywhere, every other line is a sample, so the header starts
with ``#``; the time column's form is judged on the first 20 samples by ELAN's vote (``time_unit``: with
':' h:mm:ss.mmm, with '.' or ',' seconds, a whole number ms; seconds on a tie), a decimal comma is read where
',' is not the delimiter, and ``n/a`` (ELAN's own export) is no value. The source is "Discontinuous Rate": each
sample sits at its own time, where "Continuous Rate" places sample i at i / f for a whole number f of
samples a second guessed from the first 20 lines, which drifts from frames at a rate like 30.2 fps.
A tracksource's ``time-origin`` (ms) is the series' own time at ELAN's time 0.
"""
from __future__ import annotations

import csv
import io
import os
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np

from ..errors import LabelFileError
from ..fsio import csv_rows, open_regular
from ..safepaths import excerpt, require_file
from .framerule import NS, hold_samples, ns_time, seconds_text
from .xmlfile import parse_xml, read_input

CSV_PROVIDER = "mpi.eudico.client.annotator.timeseries.csv.CSVServiceProvider"
TSCONF_SUFFIX = "_tsconf.xml"


@dataclass
class SeriesTrack:
    name: str
    column: int
    values: np.ndarray | None = None  # (n_frames,) float64 after reading, NaN where no sample holds


def file_url(path: Path) -> str:
    return path.absolute().as_uri()


def local_path(url: str, base: Path) -> Path:
    """A file:// URL or relative path from an ELAN file, as a local path (relative ones from ``base``)."""
    u = urlparse(url)
    p = unquote(u.path) if u.scheme in ("file", "") else url
    if u.scheme == "file" and p.startswith("/./"):  # ELAN's old relative spelling file:/./x
        p = p[1:]
    q = Path(p)
    return q if q.is_absolute() else base / q


def write_series(csv_path: Path, frames: int, fps: Fraction, columns: dict[str, np.ndarray]) -> tuple[bytes, bytes]:
    """The bytes of the CSV and of its configuration (one track per column, drawn over [-1, 1])."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["#time_s", *columns])
    cols = list(columns.values())
    for f in range(frames):
        w.writerow([seconds_text(f, fps)] + [str(np.float32(c[f])) if np.isfinite(c[f]) else "NaN" for c in cols])
    root = ET.Element("timeseries", {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "version": "1.0"})
    src = ET.SubElement(root, "tracksource", {"sample-type": "Discontinuous Rate", "source-url": file_url(csv_path),
                                              "time-column": "0"})
    ET.SubElement(src, "property", {"key": "provider", "value": CSV_PROVIDER})
    for j, name in enumerate(columns, start=1):
        t = ET.SubElement(src, "track", {"derivative": "0", "name": name})
        ET.SubElement(t, "property", {"key": "detect-range", "value": "false"})
        ET.SubElement(ET.SubElement(t, "sample-position"), "pos", {"col": str(j), "row": "0"})
        ET.SubElement(t, "description")
        ET.SubElement(t, "units")
        ET.SubElement(t, "range", {"max": "1.0", "min": "-1.0"})
        ET.SubElement(t, "color").text = "0,0,255" if name.endswith("arousal") else "255,0,0"
    ET.indent(root, "    ")
    conf = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
    return buf.getvalue().encode("utf-8"), conf


def read_series(conf_path: Path, fps: Fraction, n_frames: int, origin_ms: int = 0) -> dict[Path, list[SeriesTrack]]:
    """Every track of every CSV source a configuration names, resampled to ``n_frames`` frames (sample times
    shifted by ``origin_ms``, the video's TIME_ORIGIN, less the source's time-origin)."""
    root = parse_xml(conf_path, read_input(conf_path), "the time-series configuration")
    if root.tag != "timeseries":
        raise LabelFileError(f"not an ELAN time-series configuration (root <{excerpt(root.tag, 40)[1:-1]}>)", conf_path)
    out: dict[Path, list[SeriesTrack]] = {}
    for src in root.findall("tracksource"):
        url = src.get("source-url") or ""
        csv_path = local_path(url, conf_path.parent)
        if not csv_path.exists():  # moved with the .eaf: look beside the configuration
            csv_path = conf_path.parent / Path(unquote(urlparse(url).path)).name
        try:
            tcol = int(src.get("time-column", "0"))
        except ValueError:
            raise LabelFileError(f"time-column {excerpt(src.get('time-column'))} is not a column number",
                                 conf_path) from None
        try:
            ts_origin = int(src.get("time-origin", "0"))
        except ValueError:
            raise LabelFileError(f"time-origin {excerpt(src.get('time-origin'))} is not a whole number of ms",
                                 conf_path) from None
        tracks = []
        for t in src.findall("track"):
            pos = t.find("sample-position/pos")
            try:
                col = int(pos.get("col", "")) if pos is not None else -1
            except ValueError:
                col = -1
            if col < 0:
                raise LabelFileError(f"track {excerpt(t.get('name'))} has no sample column", conf_path)
            tracks.append(SeriesTrack(t.get("name") or f"column {col}", col))
        _fill(csv_path, tcol, tracks, fps, n_frames, (origin_ms - ts_origin) * 10**6)
        out[csv_path] = tracks
    return out


def _fill(path: Path, tcol: int, tracks: list[SeriesTrack], fps: Fraction, n_frames: int, shift_ns: int) -> None:
    require_file(path, LabelFileError)  # 'file not found' rather than the bare errno text
    fd = open_regular(path, os.O_RDONLY, error=LabelFileError, verb="cannot read", follow=True)
    with os.fdopen(fd, "rb") as f:  # a FIFO or device was refused above, never waited on
        head = f.read(1 << 16).decode("utf-8-sig", "replace").splitlines()[:5]
    delim = max((",", ";", "\t"), key=lambda d: sum(line.count(d) for line in head))
    lines = [(i, row) for i, row in csv_rows(path, LabelFileError, delimiter=delim)  # lines, cells, columns bounded
             if row and "".join(row).strip() and not "".join(row).lstrip().startswith("#")]  # blank or comment
    cells = [row[tcol].strip() if tcol < len(row) else "" for _, row in lines]
    unit = time_unit([c for c in cells if _time_ns(c, "s", delim) is not None or ":" in c][:DETECT_LINES])
    times: list[int] = []
    rows: list[list[str]] = []
    numbers: list[int] = []  # each sample's line
    for (i, row), cell in zip(lines, cells):
        t = _time_ns(cell, unit, delim)
        if t is None:
            if times:
                raise LabelFileError(f"time {excerpt(cell)} is not a {UNIT_WORDS[unit]}", path, i)
            continue  # header lines before the first sample
        if times and t <= times[-1]:
            raise LabelFileError(f"time {cell} does not come after the previous sample "
                                 f"({times[-1] / NS:g} s): duplicate or out of order", path, i)
        times.append(t)
        rows.append(row)
        numbers.append(i)
    idx = hold_samples(np.array(times, dtype=np.int64) + shift_ns, fps, n_frames)
    for tr in tracks:
        short = next((k for k, row in enumerate(rows) if tr.column >= len(row)), None)
        if short is not None:  # a file cut mid-row: read as "no value", the cut would pass unnoticed
            raise LabelFileError(f"track {excerpt(tr.name)}: the sample has no column {tr.column} (the row has "
                                 f"{len(rows[short])} cells: cut short?)", path, numbers[short])
        cells = [row[tr.column].strip() for row in rows]
        try:
            vals = np.array([c if c and c.lower() not in MISSING else "nan" for c in cells], dtype=np.float64)
        except ValueError:
            bad = next(c for c in cells if not _number(c))
            raise LabelFileError(f"track {excerpt(tr.name)}: {excerpt(bad)} is not a number", path) from None
        tr.values = np.where(idx >= 0, vals[np.maximum(idx, 0)] if len(vals) else np.nan, np.nan)


DETECT_LINES = 20  # ELAN judges the time format on this many samples
MISSING = ("n/a", "na", "")  # what ELAN's own CSV export writes for no value
UNIT_WORDS = {"s": "time in seconds", "ms": "whole number of ms", "clock": "time as h:mm:ss.mmm"}
_CLOCK = re.compile(r"\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d{0,9})?)\s*")


def time_unit(samples: list[str]) -> str:
    """ELAN's rule for a CSV's time column (CSVReader.detectTimeFormat): over the first samples, one with
    ':' votes h:mm:ss.mmm ("clock"), one with '.' or ',' seconds, a whole number milliseconds; most votes win,
    seconds on a tie with ms (and when there is nothing to judge)."""
    votes = {"clock": 0, "s": 0, "ms": 0}
    for c in samples:
        votes["clock" if ":" in c else "s" if "." in c or "," in c else "ms"] += 1
    best = max(votes.values())
    return "s" if votes["s"] == best else "clock" if votes["clock"] == best else "ms"


def _time_ns(text: str, unit: str, delim: str) -> int | None:
    """A sample's time in whole nanoseconds, read in ``unit``; None if it is not one."""
    if unit == "clock":
        m = _CLOCK.fullmatch(text)
        if m is None:
            return None
        h, mi, sec = m.groups()
        rest = ns_time(sec.replace(",", "."))
        return None if rest is None else (int(h or 0) * 3600 + int(mi) * 60) * NS + rest
    if unit == "ms":
        return int(text) * 10**6 if text.strip().lstrip("+-").isdigit() else None
    return ns_time(text.replace(",", ".") if delim != "," else text)  # a decimal comma where it is no delimiter


def _number(text: str) -> bool:
    if text.lower() in MISSING:
        return True
    try:
        float(text or "nan")
    except ValueError:
        return False
    return True
