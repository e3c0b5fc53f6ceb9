"""The one strict way every importer reads an image file.

- Only a regular file is opened (a FIFO, a folder or a device is refused by stat, before any open).
- The bytes are read by Python and decoded from memory (``cv2.imdecode``), so no file name, whatever its
  encoding, ever reaches OpenCV.
- The format and dimensions are read from the header first: an image over MAX_PIXELS (a decompression
  bomb: a few hundred bytes may claim 60000x60000) is refused before any pixel is decoded.
- A truncated or damaged file is refused, not decoded "as far as it goes": a JPEG must end its scan with
  the end-of-image marker, a PNG must have every chunk intact (CRC) up to IEND, a BMP or WebP must hold
  the size its header gives.
- EXIF orientation is applied only when asked (``upright``). Rows whose geometry comes from the
  database (landmarks, points, face boxes) use the pixels as stored, as their coordinates do; given
  crops and detected faces are turned upright (what a viewer sees). Each importer states which.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from .records import MISSING, file_problem

MAX_PIXELS = 50_000_000  # 50 megapixels: larger images are refused before decoding
MAX_BYTES = 256 << 20  # no image file of a face database is anywhere near this
FORMATS = "JPEG, PNG, BMP or WebP"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_NO_LENGTH = {0x01, *range(0xD0, 0xD9)}  # TEM, RST0-7, SOI


class ImageError(ValueError):
    """Why an image file cannot be used (the caller names the file)."""


def _jpeg_header(data: bytes) -> tuple[int, int, int]:
    """(width, height, offset of the first scan's data) from a JPEG's markers."""
    i, size = 2, None
    while i + 4 <= len(data):
        if data[i] != 0xFF:  # stray bytes between segments (libjpeg skips them too)
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _NO_LENGTH:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in _SOF and i + 9 <= len(data):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            size = (w, h)
        if marker == 0xDA:  # start of scan
            if size is None:
                raise ImageError("damaged JPEG (a scan before the frame header)")
            return size[0], size[1], i + 2 + length
        i += 2 + length
    raise ImageError("truncated JPEG (the file ends before the image data)")


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG whose chunks are all present and intact up to IEND."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ImageError("damaged PNG (no IHDR header)")
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def _png_complete(data: bytes) -> None:
    i = 8
    while i + 12 <= len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        end = i + 12 + n
        if end > len(data):
            break
        if zlib.crc32(data[i + 4:i + 8 + n]) != struct.unpack(">I", data[i + 8 + n:end])[0]:
            raise ImageError(f"damaged PNG (bad checksum in its {kind.decode('latin-1')} chunk)")
        if kind == b"IEND":
            return
        i = end
    raise ImageError("truncated PNG (the file ends before its IEND chunk)")


def image_header(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from an image's first bytes, without decoding pixels."""
    if data[:3] == b"\xff\xd8\xff":
        w, h, _ = _jpeg_header(data)
        return "JPEG", w, h
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        w, h = _png_size(data)
        return "PNG", w, h
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return "BMP", abs(w), abs(h)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return "WebP", w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            b = int.from_bytes(data[21:25], "little")
            return "WebP", (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return "WebP", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ImageError(f"not a {FORMATS} image" if data else "empty file")


def check_complete(fmt: str, data: bytes) -> None:
    """Refuse a file that ends early or whose structure is damaged (see the module's notes)."""
    if fmt == "JPEG":
        _, _, scan = _jpeg_header(data)
        if data.rfind(b"\xff\xd9", scan) < 0:
            raise ImageError("truncated JPEG (no end-of-image marker after its image data)")
    elif fmt == "PNG":
        _png_complete(data)
    elif fmt == "BMP":
        declared = struct.unpack("<I", data[2:6])[0]
        if declared and len(data) < declared:
            raise ImageError(f"truncated BMP ({len(data):,} of {declared:,} bytes)")
    elif fmt == "WebP":
        declared = struct.unpack("<I", data[4:8])[0] + 8
        if len(data) < declared:
            raise ImageError(f"truncated WebP ({len(data):,} of {declared:,} bytes)")


def read_bytes(path: Path) -> bytes:
    """The bytes of an image file: a regular file only (stat first: a FIFO would block the open)."""
    bad = file_problem(path)
    if bad is not None:
        raise ImageError("image not found" if bad == MISSING else f"the image {bad}")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ImageError(f"the image file is over the {MAX_BYTES >> 20} MiB limit")
        return data
    except OSError as e:
        raise ImageError(f"cannot read the image ({e.strerror or e})") from None


def decode_rgb(data: bytes, upright: bool = False) -> np.ndarray:
    """Strictly decoded RGB uint8 pixels of an image's bytes (ImageError with the reason otherwise).
    ``upright``: apply its EXIF orientation (else the pixels as stored)."""
    fmt, w, h = image_header(data)
    if w <= 0 or h <= 0:
        raise ImageError(f"{fmt} header gives an empty size {w}x{h}")
    if w * h > MAX_PIXELS:
        raise ImageError(f"{fmt} of {w}x{h} pixels ({w * h / 1e6:.0f} MP) is over the {MAX_PIXELS // 1_000_000} MP "
                         "limit for an image (a decompression bomb, or not a face photo)")
    check_complete(fmt, data)
    flags = cv2.IMREAD_COLOR if upright else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None:
        raise ImageError(f"damaged {fmt} (it cannot be decoded)")
    if not upright and img.shape[:2] != (h, w):
        raise ImageError(f"damaged {fmt} (decoded {img.shape[1]}x{img.shape[0]}, its header says {w}x{h})")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_image(path: Path, upright: bool = False) -> np.ndarray:
    """An image file as RGB uint8, strictly (see the module's notes); ImageError says why not."""
    return decode_rgb(read_bytes(path), upright)


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1-8) of a JPEG's bytes; 1 when it has none."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:
            break
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        seg = data[i + 4:i + 2 + length]
        if marker == 0xE1 and seg[:6] == b"Exif\0\0":
            tiff = seg[6:]
            end = "<" if tiff[:2] == b"II" else ">"
            try:
                (ifd,) = struct.unpack(end + "I", tiff[4:8])
                (count,) = struct.unpack(end + "H", tiff[ifd:ifd + 2])
                for k in range(count):
                    e = ifd + 2 + 12 * k
                    tag, _, _, value = struct.unpack(end + "HHI4s", tiff[e:e + 12])
                    if tag == 0x0112:
                        v = struct.unpack(end + "H", value[:2])[0]
                        return v if 1 <= v <= 8 else 1
            except struct.error:
                return 1
        i += 2 + length
    return 1
