"""What a screenshot shows, in numbers, so a picture can fail a test.

A PNG that exists, or that is larger than some bytes, proves nothing: a blank panel makes one
too. These numbers tell a drawn panel from an empty one: the share of pixels that differ from
the background ("ink"), and how light that background is (the theme). Playwright's PNGs are
8-bit RGB or RGBA, not interlaced; the standard library decodes them.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Picture:
    """A decoded screenshot: its size and one (r, g, b) per pixel, row after row."""

    width: int
    height: int
    pixels: list[tuple[int, int, int]] = field(repr=False)

    @property
    def background(self) -> tuple[int, int, int]:
        """The most common colour."""
        return Counter(self.pixels).most_common(1)[0][0]

    def ink(self, tolerance: int = 40) -> float:
        """The share of pixels whose colour differs from the background by more than
        ``tolerance`` (summed over r, g, b): text, icons, borders."""
        background = self.background
        drawn = sum(1 for p in self.pixels
                    if sum(abs(a - b) for a, b in zip(p, background, strict=True)) > tolerance)
        return drawn / len(self.pixels)

    @property
    def background_luma(self) -> float:
        """How light the background is, 0 (black) to 255 (white)."""
        r, g, b = self.background
        return 0.299 * r + 0.587 * g + 0.114 * b


def decode_png(data: bytes) -> Picture:
    """Decode a non-interlaced 8-bit RGB or RGBA PNG (alpha is dropped).

    Raises:
        ValueError: not such a PNG.
    """
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG")
    offset, chunks, header = len(_SIGNATURE), [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, "
                         f"interlace {interlace}")
    channels = 3 if colour == 2 else 4
    rows = _unfilter(zlib.decompress(b"".join(chunks)), width * channels, height, channels)
    pixels = [(row[i], row[i + 1], row[i + 2])
              for row in rows for i in range(0, width * channels, channels)]
    return Picture(width, height, pixels)


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytearray]:
    """Undo the per-row PNG filters (None, Sub, Up, Average, Paeth)."""
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                up_left = previous[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + _paeth(left, previous[i], up_left)) & 0xFF
        elif kind != 0:
            raise ValueError(f"unknown PNG filter {kind}")
        rows.append(row)
        previous = row
    return rows


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c
