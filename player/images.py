"""Image sizes from file headers, before anything is decoded: an image "bomb" (a small file claiming
30000x30000 pixels) is refused in words instead of taking gigabytes.

:func:`image_info` reads the header of PNG, JPEG, GIF, BMP, WebP, TIFF, JPEG 2000 and PNM files (the
formats OpenCV reads; Pillow is not a dependency of the player, so the few bytes are parsed here).
:func:`check_image` bounds the pixel count and the file size and says what to do. Used by the mood
reader for ``--image`` and by cover art. No heavy imports.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from player.errors import ImageError

MAX_PIXELS = 50_000_000  # 50 megapixels: ~150 MB decoded as BGR, under the player's ~300 MB budget
MAX_FILE_BYTES = 200 * 1024 * 1024
# JPEG decodes directly at 1/2, 1/4 or 1/8 of its size (libjpeg's DCT scaling), so a bigger one can
# still be read within the budget.
JPEG_REDUCTIONS = (1, 2, 4, 8)


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png", "jpeg", "gif", "bmp", "webp", "tiff", "jp2", "pnm"
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _u16be(b, o):
    return struct.unpack_from(">H", b, o)[0]


def _u32be(b, o):
    return struct.unpack_from(">I", b, o)[0]


def _png(f, head: bytes) -> ImageInfo | None:
    if head[12:16] != b"IHDR" or len(head) < 24:
        return None
    return ImageInfo("png", _u32be(head, 16), _u32be(head, 20))


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(f, head: bytes) -> ImageInfo | None:
    f.seek(2)
    for _ in range(10000):  # markers up to the frame header (EXIF, ICC profiles … come first)
        byte = f.read(1)
        while byte and byte != b"\xff":
            byte = f.read(1)
        while byte == b"\xff":
            byte = f.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue  # no length
        if marker == 0xD9:
            return None
        data = f.read(2)
        if len(data) < 2:
            return None
        length = _u16be(data, 0)
        if marker in _SOF:
            frame = f.read(5)
            if len(frame) < 5:
                return None
            return ImageInfo("jpeg", _u16be(frame, 3), _u16be(frame, 1))
        f.seek(length - 2, os.SEEK_CUR)
    return None


def _gif(f, head: bytes) -> ImageInfo | None:
    w, h = struct.unpack_from("<HH", head, 6)
    return ImageInfo("gif", w, h)


def _bmp(f, head: bytes) -> ImageInfo | None:
    size = struct.unpack_from("<I", head, 14)[0]
    if size == 12:
        w, h = struct.unpack_from("<HH", head, 18)
    else:
        w, h = struct.unpack_from("<ii", head, 18)
    return ImageInfo("bmp", abs(w), abs(h))


def _webp(f, head: bytes) -> ImageInfo | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack_from("<HH", head, 26)
        return ImageInfo("webp", w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = struct.unpack_from("<I", head, 21)[0]
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return ImageInfo("webp", w, h)
    return None


def _tiff(f, head: bytes) -> ImageInfo | None:
    order = "<" if head[:2] == b"II" else ">"
    f.seek(struct.unpack_from(order + "I", head, 4)[0])
    count_b = f.read(2)
    if len(count_b) < 2:
        return None
    values = {}
    for _ in range(min(struct.unpack(order + "H", count_b)[0], 4096)):
        entry = f.read(12)
        if len(entry) < 12:
            break
        tag, kind = struct.unpack_from(order + "HH", entry, 0)
        if tag in (256, 257):
            values[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), entry, 8)[0]
    if 256 in values and 257 in values:
        return ImageInfo("tiff", values[256], values[257])
    return None


def _jp2(f, head: bytes) -> ImageInfo | None:
    if head[:4] == b"\xff\x4f\xff\x51":  # a bare codestream: the SIZ segment comes first
        return ImageInfo("jp2", _u32be(head, 8) - _u32be(head, 16), _u32be(head, 12) - _u32be(head, 20))
    data = head + f.read(65536)
    at = data.find(b"ihdr")
    if at < 0 or len(data) < at + 12:
        return None
    return ImageInfo("jp2", _u32be(data, at + 8), _u32be(data, at + 4))


def _pnm(f, head: bytes) -> ImageInfo | None:
    tokens, i, text = [], 2, head
    while len(tokens) < 2 and i < len(text):
        c = text[i:i + 1]
        if c == b"#":
            end = text.find(b"\n", i)
            i = len(text) if end < 0 else end + 1
        elif c.isspace():
            i += 1
        else:
            j = i
            while j < len(text) and text[j:j + 1].isdigit():
                j += 1
            if j == i:
                return None
            tokens.append(int(text[i:j]))
            i = j
    return ImageInfo("pnm", tokens[0], tokens[1]) if len(tokens) == 2 else None


def _reader(head: bytes):
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png
    if head.startswith(b"\xff\xd8"):
        return _jpeg
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif
    if head.startswith(b"BM") and len(head) >= 26:
        return _bmp
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return _jp2
    if head[:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return _pnm
    return None


def _info(f) -> ImageInfo | None:
    head = f.read(512)
    reader = _reader(head)
    if reader is None:
        return None
    try:
        info = reader(f, head)
    except (struct.error, IndexError, ValueError, OSError):
        return None
    return info if info is not None and info.width > 0 and info.height > 0 else None


def image_info(path: str | os.PathLike) -> ImageInfo | None:
    """Format and size from the file's header, or None when it is not an image this module knows (or
    its header is cut short). Raises OSError when the file cannot be read."""
    with open(path, "rb") as f:
        return _info(f)


def image_info_of(data: bytes) -> ImageInfo | None:
    """:func:`image_info` of an image held in memory (a picture embedded in a music file's tags)."""
    return _info(io.BytesIO(data))


def check_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> tuple[ImageInfo, int]:
    """The image's header info and the JPEG reduction (1, 2, 4 or 8) that keeps the decoded image
    within ``max_pixels``. Raises :class:`ImageError` in words: unreadable, not an image, too large."""
    path = Path(path)
    try:
        size = path.stat().st_size
        info = image_info(path)
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc)).lower()
        raise ImageError(f"cannot read the image {path}: {reason}") from None
    if size > MAX_FILE_BYTES:
        raise ImageError(f"the image {path} is {size / 1e6:.0f} MB: too large to read "
                         f"(at most {MAX_FILE_BYTES // 2**20} MB)")
    if info is None:
        raise ImageError(f"{path} is not an image the player can read (PNG, JPEG, GIF, BMP, WebP, TIFF, "
                         "JPEG 2000 or PNM), or its header is damaged")
    if info.width <= 0 or info.height <= 0:
        raise ImageError(f"the image {path} claims a size of {info.width}x{info.height} pixels: it is damaged")
    reduction = 1
    if info.format == "jpeg":
        for reduction in JPEG_REDUCTIONS:
            if -(-info.width // reduction) * -(-info.height // reduction) <= max_pixels:
                break
    if (-(-info.width // reduction)) * (-(-info.height // reduction)) > max_pixels:
        raise ImageError(f"the image {path} is {info.width}x{info.height} pixels: too large to read (at most "
                         f"{max_pixels / 1e6:.0f} megapixels); scale it down first")
    return info, reduction
