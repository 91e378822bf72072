"""Cover art: find a track's picture, remember it in the library, make thumbnails.

- :func:`find_cover` / :func:`find_cover_in_tags`: the picture embedded in the file (ID3 ``APIC``,
  front cover first; FLAC pictures; Vorbis/Opus ``METADATA_BLOCK_PICTURE``; MP4 ``covr``; ASF
  ``WM/Picture``), else an image next to it (``cover``, ``folder``, ``front``, ``album`` with ``.jpg``,
  ``.jpeg`` or ``.png``, any case, preferred in that order). The answer is a :class:`CoverRef`: where
  the picture is, the sha1 of its bytes (an album's tracks with one picture share it), its type and
  size read from the image header without decoding it.
- Bad pictures (unknown or damaged header, over :data:`MAX_BYTES`, claiming more than
  :data:`MAX_SIDE` pixels a side or :data:`MAX_PIXELS` in all) are skipped with one log line; a tag
  that mutagen cannot read is logged too, and the folder image is used instead. Nothing here raises
  for a bad file.
- :func:`thumbnail`: decodes at a reduced scale (JPEG's DCT scaling, chosen from the header's size),
  fits the picture in ``size`` x ``size`` and writes a JPEG under ``cache_dir()/covers`` atomically;
  the next call for that picture and size returns the file without reading the picture again. A pure
  function, safe from any thread.
- The library keeps each track's cover (:func:`save_cover`, :func:`cover_for_track`,
  :func:`cover_json`); the bytes stay in the music file or the folder image and are read again by
  :func:`load_picture_bytes`. Music files are only read.

The schema is migration ``0003_covers`` in :mod:`player.library.db` (a ``covers`` table, and
``cover_hash``, ``cover_source``, ``cover_path_raw`` on ``tracks``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from player.paths import cache_dir

log = logging.getLogger(__name__)

MAX_BYTES = 16 * 1024 * 1024  # a bigger picture is ignored
MAX_SIDE = 8192  # pixels a side
MAX_PIXELS = 40_000_000
FOLDER_NAMES = ("cover", "folder", "front", "album")
FOLDER_EXTENSIONS = (".jpg", ".jpeg", ".png")
# "cover.jpg" → its rank (lower is better): names first, then extensions, in the orders above.
_FOLDER_RANK = {n + e: i for i, (n, e) in enumerate((n, e) for n in FOLDER_NAMES for e in FOLDER_EXTENSIONS)}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp"}
FRONT_COVER = 3  # the picture type (ID3, FLAC, ASF) of the front cover
_ICON_TYPES = (1, 2)  # 32x32 file icons: used only when nothing else is there

@dataclass(frozen=True)
class ImageHeader:
    mime: str
    width: int
    height: int


@dataclass(frozen=True)
class CoverRef:
    """A track's picture: ``source`` is ``"embedded"`` (in the music file ``path``) or ``"folder"``
    (the image file ``path``); ``hash`` is the sha1 (hex) of the picture's bytes."""

    source: str
    hash: str
    mime: str
    width: int
    height: int
    path: str


def _shown(path) -> str:
    """A path for a log line (undecodable bytes escaped)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


# -- image headers ------------------------------------------------------------------------------------
_MIME = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp"}


def image_header(data: bytes) -> ImageHeader | None:
    """The type and size a picture's header claims (JPEG, PNG, GIF, WebP, BMP), without decoding it
    (:mod:`player.images` reads the header); None when the bytes are none of these or the header is
    damaged."""
    from player.images import image_info_of

    info = image_info_of(bytes(data))
    if info is None or info.format not in _MIME:
        return None
    return ImageHeader(_MIME[info.format], info.width, info.height)


def _too_big(size: int, what: str) -> bool:
    if size <= MAX_BYTES:
        return False
    log.warning("cover art: ignored %s: %.1f MB is over the %d MB limit", what, size / 2**20, MAX_BYTES // 2**20)
    return True


def check_picture(data: bytes, what: str) -> ImageHeader | None:
    """The picture's header when it is fit to use, else None and one log line saying why (``what``
    names the picture in that line)."""
    if _too_big(len(data), what):
        return None
    header = image_header(data)
    if header is None:
        log.warning("cover art: ignored %s: not a JPEG, PNG, GIF, WebP or BMP picture, or its header "
                    "is damaged", what)
        return None
    w, h = header.width, header.height
    if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        log.warning("cover art: ignored %s: it claims %dx%d pixels (the limit is %d a side and %d Mpx)",
                    what, w, h, MAX_SIDE, MAX_PIXELS // 1_000_000)
        return None
    return header


# -- embedded pictures ----------------------------------------------------------------------------------
def _values(tags, key) -> list:
    try:
        value = tags[key]
    except (KeyError, ValueError, TypeError, IndexError):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _asf_picture(blob: bytes) -> tuple[int, bytes] | None:
    """ASF ``WM/Picture``: type (1 byte), length (LE 32 bits), mime and description (UTF-16LE, each
    ending in two zero bytes), then the picture."""
    if len(blob) < 9:
        return None
    kind, length, pos = blob[0], int.from_bytes(blob[1:5], "little"), 5
    for _ in range(2):
        end = pos
        while True:
            end = blob.find(b"\x00\x00", end)
            if end < 0:
                return None
            if (end - pos) % 2 == 0:
                break
            end += 1
        pos = end + 2
    data = blob[pos:pos + length]
    return (kind, data) if data else None


def _flac_picture(b64, where: str) -> tuple[int, bytes] | None:
    from mutagen.flac import Picture

    try:
        picture = Picture(base64.b64decode(str(b64), validate=False))
    except Exception as exc:  # binascii.Error, or mutagen's own kinds for a damaged block
        log.warning("cover art: ignored a damaged METADATA_BLOCK_PICTURE in %s (%s)", where, type(exc).__name__)
        return None
    return picture.type, picture.data


def _embedded(audio, where: str) -> list[tuple[int, bytes]]:
    """The pictures in an opened mutagen file (easy or not): (picture type, bytes), best first."""
    found: list[tuple[int, bytes]] = []
    for picture in getattr(audio, "pictures", None) or ():  # FLAC's picture blocks
        found.append((picture.type, picture.data))
    tags = getattr(audio, "tags", None)
    # The "easy" wrappers the scan opens keep the real tags inside.
    tags = getattr(tags, "_EasyID3__id3", None) or getattr(tags, "_EasyMP4Tags__mp4", None) or tags
    if tags is None:
        pass
    elif hasattr(tags, "getall"):  # ID3 (mp3, also inside WAV and AIFF)
        found += [(frame.type, frame.data) for frame in tags.getall("APIC")]
    else:
        found += [(FRONT_COVER, bytes(cover)) for cover in _values(tags, "covr")]  # MP4
        for value in _values(tags, "WM/Picture"):  # ASF
            picture = _asf_picture(bytes(getattr(value, "value", b"")))
            if picture is None:
                log.warning("cover art: ignored a damaged WM/Picture in %s", where)
            else:
                found.append(picture)
        if hasattr(tags, "vendor"):  # Vorbis comments (Ogg Vorbis, Opus, FLAC)
            for value in _values(tags, "metadata_block_picture"):
                picture = _flac_picture(value, where)
                if picture is not None:
                    found.append(picture)
            for value in _values(tags, "coverart"):  # the old, unofficial field: a bare picture
                try:
                    found.append((0, base64.b64decode(str(value))))
                except (binascii.Error, ValueError):
                    log.warning("cover art: ignored a damaged COVERART field in %s", where)
    order = {id(p): i for i, p in enumerate(found)}

    def rank(picture):
        kind = picture[0]
        return (0 if kind == FRONT_COVER else 2 if kind in _ICON_TYPES else 1), order[id(picture)]

    return sorted(found, key=rank)


def _pick_embedded(audio, path) -> tuple[CoverRef, bytes] | None:
    where = _shown(path)
    for number, (_kind, data) in enumerate(_embedded(audio, where), start=1):
        header = check_picture(data, f"picture {number} embedded in {where}")
        if header is not None:
            ref = CoverRef("embedded", hashlib.sha1(data).hexdigest(), header.mime, header.width,
                           header.height, os.fsdecode(path))
            return ref, data
    return None


def _open_tags(path):
    """The file's tags opened by mutagen, or None (no tags, unknown type, or damaged: logged)."""
    import mutagen

    try:
        return mutagen.File(path)
    except Exception as exc:  # mutagen raises many kinds for damaged tags
        text = str(exc).strip().splitlines()
        log.warning("cover art: cannot read the tags of %s (%s)", _shown(path),
                    text[0][:160] if text else type(exc).__name__)
        return None


# -- folder images --------------------------------------------------------------------------------------
class _Memo:
    """A small, bounded, thread-safe map whose entries hold only while their stamp is unchanged."""

    def __init__(self, size: int = 1024):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key, stamp):
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != stamp:
                return False, None
            self._items.move_to_end(key)
            return True, item[1]

    def put(self, key, stamp, value, mtime_ns: int) -> None:
        """Remembered only when ``mtime_ns`` is a while ago: a change within the file system's clock
        tick of the last one would leave the stamp as it was."""
        if time.time_ns() - mtime_ns < _SETTLED_NS:
            return
        with self._lock:
            self._items[key] = (stamp, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


# An album's tracks share their folder: its listing and its image are looked at once, again only when
# the folder or the image changes (size, mtime). What changed in the last two seconds is looked at
# every time (file-system clocks tick in milliseconds to seconds).
_SETTLED_NS = 2_000_000_000
_FOLDERS = _Memo()
_FOLDER_IMAGES = _Memo()


def _folder_candidates(folder: str) -> list[str]:
    try:
        stamp = os.stat(folder).st_mtime_ns
    except OSError:
        return []
    hit, names = _FOLDERS.get(folder, stamp)
    if hit:
        return names
    try:
        with os.scandir(folder) as entries:
            found = [(_FOLDER_RANK[e.name.lower()], e.name) for e in entries if e.name.lower() in _FOLDER_RANK]
    except OSError:
        found = []
    names = [name for _rank, name in sorted(found)]
    _FOLDERS.put(folder, stamp, names, stamp)
    return names


def _read_image_file(path: str) -> bytes | None:
    """The bytes of an image file, or None (unreadable or too big: logged)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if _too_big(size, _shown(path)):
                return None
            return f.read(size + 1)  # a bigger one, grown since, is refused by check_picture
    except OSError as exc:
        log.warning("cover art: cannot read %s (%s)", _shown(path), (exc.strerror or str(exc)).lower())
        return None


def _image_file(path: str) -> tuple[CoverRef, bytes | None] | None:
    """A folder image as a cover (memoised by size and mtime: the bytes come back only when read now)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    stamp = (st.st_size, st.st_mtime_ns)
    hit, ref = _FOLDER_IMAGES.get(path, stamp)
    if hit:
        return None if ref is None else (ref, None)
    data = _read_image_file(path)
    header = None if data is None else check_picture(data, _shown(path))
    ref = None
    if header is not None:
        ref = CoverRef("folder", hashlib.sha1(data).hexdigest(), header.mime, header.width, header.height, path)
    _FOLDER_IMAGES.put(path, stamp, ref, st.st_mtime_ns)
    return None if ref is None else (ref, data)


def _folder_cover(track_path) -> tuple[CoverRef, bytes | None] | None:
    folder = os.path.dirname(os.path.abspath(os.fsdecode(track_path)))
    for name in _folder_candidates(folder):
        found = _image_file(os.path.join(folder, name))
        if found is not None:
            return found
    return None


# -- finding --------------------------------------------------------------------------------------------
def _find(audio, path) -> tuple[CoverRef, bytes | None] | None:
    """The cover and, when just read, its bytes: embedded first, else the folder image."""
    return (_pick_embedded(audio, path) if audio is not None else None) or _folder_cover(path)


def find_cover_in_tags(mutagen_file, path) -> CoverRef | None:
    """The cover of the music file ``path`` whose tags are already open as ``mutagen_file`` (from
    ``mutagen.File(path)``, easy or not; None when mutagen found no tags): the embedded picture, else
    the folder image. Never raises for bad pictures; reads no audio."""
    found = _find(mutagen_file, path)
    return None if found is None else found[0]


def find_cover(path) -> CoverRef | None:
    """The cover of the music file ``path`` (its tags are opened here; see :func:`find_cover_in_tags`)."""
    return find_cover_in_tags(_open_tags(path), path)


def read_picture(ref: CoverRef) -> bytes | None:
    """The picture's bytes, read again from the music file or the folder image; None (logged) when it
    is no longer there or has changed since ``ref`` was made."""
    if ref.source == "folder":
        data = _read_image_file(ref.path)
        if data is not None and hashlib.sha1(data).hexdigest() != ref.hash:
            log.warning("cover art: %s has changed since it was read; rescan the folder", _shown(ref.path))
            return None
        return data
    audio = _open_tags(ref.path) if os.path.exists(ref.path) else None
    for _kind, data in _embedded(audio, _shown(ref.path)) if audio is not None else ():
        if hashlib.sha1(data).hexdigest() == ref.hash:
            return data
    log.warning("cover art: the picture is no longer embedded in %s; rescan it", _shown(ref.path))
    return None


# -- thumbnails -----------------------------------------------------------------------------------------
def thumbnail_path(picture_hash: str, size: int) -> Path:
    """Where the thumbnail of a picture at a size lives: ``cache_dir()/covers/ab/abcd…-128.jpg``."""
    return cache_dir() / "covers" / picture_hash[:2] / f"{picture_hash}-{int(size)}.jpg"


def _source(ref_or_path) -> tuple[str, bytes | None, CoverRef | None] | None:
    """(hash, bytes when already read, ref) for a CoverRef, an image file or a music file."""
    if isinstance(ref_or_path, CoverRef):
        return ref_or_path.hash, None, ref_or_path
    path = os.fsdecode(ref_or_path)
    if Path(path).suffix.lower() in _IMAGE_SUFFIXES:
        data = _read_image_file(path)
        return None if data is None else (hashlib.sha1(data).hexdigest(), data, None)
    found = _find(_open_tags(path), path)
    if found is None:
        return None
    ref, data = found
    return ref.hash, data, ref


def _decode(data: bytes, size: int, what: str):
    import cv2
    import numpy as np

    header = check_picture(data, what)
    if header is None:
        return None
    longest = max(header.width, header.height)
    flag = cv2.IMREAD_COLOR
    for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                            (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if longest / factor >= size:
            flag = reduced
            break
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        log.warning("cover art: cannot decode %s (a damaged %s picture)", what, header.mime.split("/")[1].upper())
        return None
    h, w = image.shape[:2]
    scale = size / max(h, w)
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return image


def thumbnail(ref_or_path, size: int = 128) -> Path | None:
    """A JPEG of the picture fitted in ``size`` x ``size`` (never enlarged), in the cache folder; None
    (logged) when the picture cannot be read or decoded. ``ref_or_path`` is a :class:`CoverRef`, an
    image file or a music file. A thumbnail made before is returned without reading the picture. Pure
    and thread-safe: meant for worker threads."""
    import cv2

    size = int(size)
    if not 1 <= size <= 4096:
        raise ValueError(f"a thumbnail size is 1 to 4096 pixels, not {size}")
    found = _source(ref_or_path)
    if found is None:
        return None
    picture_hash, data, ref = found
    dest = thumbnail_path(picture_hash, size)
    if dest.is_file():
        return dest
    if data is None:
        data = read_picture(ref)
        if data is None:
            return None
    what = _shown(ref.path if ref is not None else ref_or_path)
    image = _decode(data, size, f"the picture of {what}" if ref and ref.source == "embedded" else what)
    if image is None:
        return None
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        log.warning("cover art: cannot encode a thumbnail of %s", what)
        return None
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(encoded.tobytes())
        os.replace(tmp, dest)
    except OSError as exc:
        log.warning("cover art: cannot write the thumbnail %s (%s)", dest, (exc.strerror or str(exc)).lower())
        try:
            tmp.unlink()
        except OSError:
            pass
        return None
    return dest


# -- the library ----------------------------------------------------------------------------------------
def _db(library):
    return getattr(library, "db", library)  # a Library or its Database


def save_cover(c, track_id: int, ref: CoverRef | None) -> None:
    """Remember ``track_id``'s cover (None: looked for, there is none) inside the caller's
    transaction ``c`` (from ``db.transaction()``). A picture no track uses any more is forgotten."""
    row = c.execute("SELECT cover_hash FROM tracks WHERE id = ?", (track_id,)).fetchone()
    if row is None:
        return
    old = row[0]
    if ref is None:
        c.execute("UPDATE tracks SET cover_hash = NULL, cover_source = 'none', cover_path_raw = NULL WHERE id = ?",
                  (track_id,))
    else:
        c.execute("INSERT INTO covers(hash, mime, width, height, added_at) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT(hash) DO NOTHING", (ref.hash, ref.mime, ref.width, ref.height, time.time()))
        folder = os.fsencode(ref.path) if ref.source == "folder" else None
        c.execute("UPDATE tracks SET cover_hash = ?, cover_source = ?, cover_path_raw = ? WHERE id = ?",
                  (ref.hash, ref.source, folder, track_id))
    if old and (ref is None or old != ref.hash):
        c.execute("DELETE FROM covers WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM tracks WHERE cover_hash = ?)",
                  (old, old))


def cover_for_track(library, track_id: int) -> CoverRef | None:
    """The track's cover as the library remembers it; None when it has none (the window draws a
    placeholder) or was not looked for yet."""
    row = _db(library).query_one(
        "SELECT t.path_raw, t.cover_source, t.cover_path_raw, c.hash, c.mime, c.width, c.height "
        "FROM tracks t JOIN covers c ON c.hash = t.cover_hash WHERE t.id = ?", (track_id,))
    if row is None or row["cover_source"] not in ("embedded", "folder"):
        return None
    raw = row["cover_path_raw"] if row["cover_source"] == "folder" else row["path_raw"]
    if raw is None:
        return None
    return CoverRef(row["cover_source"], row["hash"], row["mime"], row["width"], row["height"],
                    os.fsdecode(bytes(raw)))


def cover_json(library, track_id: int) -> dict | None:
    """``{"source": "embedded" | "folder", "width": …, "height": …}`` or None, for ``tracks --json``."""
    ref = cover_for_track(library, track_id)
    return None if ref is None else {"source": ref.source, "width": ref.width, "height": ref.height}


def load_picture_bytes(library, track_id: int) -> bytes | None:
    """The track's picture, read again from its file or its folder image; None (logged when it has
    gone or changed) when there is none."""
    ref = cover_for_track(library, track_id)
    return None if ref is None else read_picture(ref)


def tracks_needing_covers(library, limit: int | None = None) -> list[tuple[int, str]]:
    """(id, path) of the present tracks whose cover was never looked for (imported before covers
    were kept), for a rescan or a background job to fill in."""
    sql = "SELECT id, path_raw FROM tracks WHERE cover_source IS NULL AND status = 'ok' ORDER BY id"
    rows = _db(library).query(sql + (" LIMIT ?" if limit else ""), (int(limit),) if limit else ())
    return [(r["id"], os.fsdecode(bytes(r["path_raw"]))) for r in rows]
