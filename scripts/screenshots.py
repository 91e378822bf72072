"""Screenshots of the window on a real, analysed library: ``docs/screenshots/{library,up-next,
track-details,album-grid}.png``.

    usage: scripts/screenshots.py MUSIC_DIR OUT_DIR [--limit N]

``MUSIC_DIR`` holds one folder per source (a Debian package, as
``bash ../shared/data/fetch_training_music.sh /tmp/music fretsonfire-songs-muldjord frozen-bubble-data``
leaves them); each folder becomes an album (or the albums its songs' tags name). Up to ``N`` songs
(default 20, taken in turn from each folder) are *copied* into a temporary folder laid out as
``Artist/Album/NN - Title.ext``; the originals are never written. Frets on Fire's separate guitar and
rhythm stems are left out when the song's full mix is there. A copy whose tags lack a title, artist or
album (or name a placeholder album such as "none") gets them from its file and folder names.

The packages ship no artwork, so every album gets a generated ``cover.jpg`` in its folder (numpy + cv2:
a gradient, a few shapes and the album's name); the player finds it as it would any folder cover.

The songs are imported into a fresh library under a temporary ``PLAYER_DATA_DIR``
(``player.library.scan.scan``), analysed with the shipped models (``python -m player analyse --db DB``,
a child process, as the command line does), a listener is added and rates a few songs; then the real
``MainWindow`` opens offscreen (``QT_QPA_PLATFORM=offscreen``, the silent ``null`` audio backend), a
song is started and paused, and the pictures are taken once the library, its analysis, the covers
and Up next are shown. The temporary folder is removed at the end.
"""

from __future__ import annotations

import argparse
import colorsys
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AUDIO = {".ogg", ".oga", ".opus", ".mp3", ".flac", ".wav", ".m4a"}
STEMS = ("guitar", "rhythm", "drums", "bass", "vocals")
PLACEHOLDER_ALBUMS = {"", "non", "none", "unknown", "untitled", "n/a", "-"}
#: readable names for the Debian packages the fetch script knows: (artist, album) for untagged songs
PACKAGE_NAMES = {
    "fretsonfire-songs-muldjord": ("Muldjord", "Frets on Fire: Muldjord"),
    "fretsonfire-songs-sectoid": ("Sectoid", "Frets on Fire: Sectoid"),
    "frozen-bubble-data": ("Frozen Bubble", "Frozen Bubble"),
    "fb-music-high": ("Frozen Bubble", "Frozen Bubble"),
}
SIZE = (1400, 860)


def package_name(folder: str, part: int = 1) -> str:
    """The artist (``part=0``) or album (``part=1``) an untagged song from ``folder`` is given."""
    if folder in PACKAGE_NAMES:
        return PACKAGE_NAMES[folder][part]
    name = re.sub(r"-(data|music|common|sounds)$", "", folder)
    return " ".join(w.capitalize() for w in re.split(r"[-_ ]+", name) if w)


def nice_title(stem: str) -> str:
    """``usr__share__games__frozen-bubble__snd__frozen-mainzik-1p`` → ``Frozen Mainzik 1p``."""
    last = stem.split("__")[-1]
    if last in ("song", "music") and "__" in stem:
        last = stem.split("__")[-2]
    words = [w for w in re.split(r"[-_ ]+", last) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or stem


def pick_files(music_dir: Path, limit: int) -> list[tuple[str, Path]]:
    """(package, file) pairs: up to ``limit``, taken in turn from each folder, stems left out."""
    per: dict[str, list[Path]] = {}
    for d in sorted(p for p in music_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f for f in d.iterdir() if f.suffix.lower() in AUDIO and f.is_file())
        names = {f.stem for f in files}
        keep = []
        for f in files:
            head, _, tail = f.stem.rpartition("__")
            if tail in STEMS and head and f"{head}__song" in names:
                continue  # a Frets on Fire stem: the full mix (song.ogg) is there
            keep.append(f)
        if keep:
            per[d.name] = keep
    picked: list[tuple[str, Path]] = []
    while len(picked) < limit and any(per.values()):
        for pkg in list(per):
            if per[pkg] and len(picked) < limit:
                picked.append((pkg, per[pkg].pop(0)))
    return picked


def _first(tags, key: str) -> str:
    try:
        v = tags.get(key) if tags is not None else None
    except Exception:  # noqa: BLE001
        return ""
    if not v:
        return ""
    v = v[0] if isinstance(v, list) else v
    return str(v).strip()


def arrange(picked: list[tuple[str, Path]], dest: Path) -> dict[Path, str]:
    """Copy the songs into ``dest/Artist/Album/``; the album folders and their names."""
    import mutagen

    albums: dict[Path, str] = {}
    counts: dict[Path, int] = {}
    for pkg, src in picked:
        audio = mutagen.File(str(src), easy=True)
        tags = audio.tags if audio is not None else None
        title = _first(tags, "title") or nice_title(src.stem)
        artist = _first(tags, "artist") or package_name(pkg, 0)
        album = _first(tags, "album")
        if album.lower() in PLACEHOLDER_ALBUMS:
            album = package_name(pkg)
        safe = lambda s: re.sub(r'[/\\:*?"<>|]+', " ", s).strip() or "Unknown"  # noqa: E731
        folder = dest / safe(artist) / safe(album)
        folder.mkdir(parents=True, exist_ok=True)
        counts[folder] = counts.get(folder, 0) + 1
        n = counts[folder]
        target = folder / f"{n:02d} - {safe(title)}{src.suffix.lower()}"
        shutil.copyfile(src, target)
        copy = mutagen.File(str(target), easy=True)
        if copy is not None:  # fill in what the tags lack (the copy only)
            if copy.tags is None:
                copy.add_tags()
            have = {k: _first(copy.tags, k) for k in ("title", "artist", "album", "tracknumber")}
            if not have["title"]:
                copy.tags["title"] = title
            if not have["artist"]:
                copy.tags["artist"] = artist
            if have["album"].lower() in PLACEHOLDER_ALBUMS:
                copy.tags["album"] = album
            if have["tracknumber"] in ("", "0"):
                copy.tags["tracknumber"] = str(n)
            copy.save()
        albums[folder] = album
    return albums


def make_cover(name: str, path: Path, size: int = 600) -> None:
    """A simple, distinct cover for ``name``: a diagonal gradient in two hues derived from the name,
    a few circles and bars, and the name itself."""
    import cv2
    import numpy as np

    seed = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng(seed)
    h1 = (seed % 360) / 360.0
    h2 = (h1 + 0.25 + 0.25 * rng.random()) % 1.0
    c1 = np.array(colorsys.hsv_to_rgb(h1, 0.75, 0.85))[::-1] * 255  # BGR
    c2 = np.array(colorsys.hsv_to_rgb(h2, 0.85, 0.35))[::-1] * 255
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    t = ((x + y) / 2.0)[..., None]
    img = (c1 * (1 - t) + c2 * t).astype(np.uint8)
    overlay = img.copy()
    for _ in range(5):
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        radius = int(rng.integers(size // 10, size // 3))
        colour = tuple(int(v) for v in (np.array(colorsys.hsv_to_rgb(rng.random(), 0.5, 1.0))[::-1] * 255))
        cv2.circle(overlay, centre, radius, colour, -1, lineType=cv2.LINE_AA)
    for i in range(int(rng.integers(3, 7))):
        y0 = int(size * 0.62) + i * 14
        cv2.rectangle(overlay, (0, y0), (size, y0 + 5), (255, 255, 255), -1)
    img = cv2.addWeighted(overlay, 0.35, img, 0.65, 0)
    # the name, in up to three lines, as large as fits
    words, lines = name.split(), []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= 14:
            lines[-1] += " " + w
        else:
            lines.append(w)
    lines = lines[:3]
    font = cv2.FONT_HERSHEY_DUPLEX
    scale = 3.0
    while scale > 0.6 and max(cv2.getTextSize(s, font, scale, 3)[0][0] for s in lines) > size - 80:
        scale -= 0.1
    line_h = int(cv2.getTextSize("Ag", font, scale, 3)[0][1] * 1.6)
    y0 = size - 50 - line_h * (len(lines) - 1)
    for i, s in enumerate(lines):
        org = (40, y0 + i * line_h)
        cv2.putText(img, s, (org[0] + 3, org[1] + 3), font, scale, (20, 20, 20), 6, cv2.LINE_AA)
        cv2.putText(img, s, org, font, scale, (255, 255, 255), 3, cv2.LINE_AA)
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])


def build_library(music_dir: Path, work: Path, limit: int) -> Path:
    """Copy, cover, import and analyse; the library file."""
    from player.library import Library
    from player.library.scan import scan

    picked = pick_files(music_dir, limit)
    if not picked:
        raise SystemExit(f"no music found in {music_dir} (one folder per album, ogg/mp3/flac files)")
    music = work / "Music"
    albums = arrange(picked, music)
    for folder, album in albums.items():
        make_cover(album, folder / "cover.jpg")
    print(f"{len(picked)} songs in {len(albums)} albums", flush=True)
    db = work / "data" / "library.db"
    lib = Library(db)
    try:
        report = scan(lib, [str(music)], workers=2)
        print(report.summary(), flush=True)
    finally:
        lib.close()
    print("analysing (the shipped models) …", flush=True)
    subprocess.run([sys.executable, "-m", "player", "analyse", "--db", str(db), "--workers", "2"],
                   cwd=str(ROOT), check=True)
    return db


def rate_some(db: Path) -> None:
    """A listener, ann, who likes the first album and not one song of the second."""
    from player.library import Library

    lib = Library(db)
    try:
        user = lib.add_user("ann")
        with lib.db.transaction() as c:
            rows = c.execute("SELECT id, album FROM tracks WHERE status = 'ok' ORDER BY album, id").fetchall()
        by_album: dict[str, list[int]] = {}
        for tid, album in rows:
            by_album.setdefault(album or "", []).append(tid)
        groups = list(by_album.values())
        stars = []
        if groups:
            stars += [(t, 5) for t in groups[0][:2]]
        if len(groups) > 1:
            stars += [(groups[1][0], 4)]
            if len(groups[1]) > 1:
                stars += [(groups[1][1], 2)]
        if len(groups) > 2:
            stars += [(groups[2][0], 5)]
        for tid, s in stars:
            lib.rate(user.id, tid, s)
    finally:
        lib.close()


def wait_until(app, cond, timeout: float, what: str) -> bool:
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        try:
            if cond():
                return True
        except Exception:  # noqa: BLE001
            pass
        QTest.qWait(100)
    print(f"warning: gave up waiting for {what}", file=sys.stderr, flush=True)
    return False


def settle(app, window, timeout: float = 20.0) -> None:
    """Until the window's worker pools are idle twice in a row."""
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QTest.qWait(80)
        if all(p.active == 0 for p in window.pools.all()):
            QTest.qWait(80)
            if all(p.active == 0 for p in window.pools.all()):
                return


def shoot(app, widget, path: Path) -> None:
    app.processEvents()
    image = widget.grab()
    if image.isNull() or not image.save(str(path)):
        raise SystemExit(f"could not save {path}")
    print(f"wrote {path} ({image.width()}x{image.height()})", flush=True)


def take_pictures(db: Path, work: Path, out: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from player.library import Library
    from player.ui.main import keep_writes_in_player_folders

    keep_writes_in_player_folders()
    app = QApplication.instance() or QApplication(["tastebuds"])
    from player.ui.main_window import MainWindow
    from player.ui.settings import Settings
    from player.ui.style import apply_style

    apply_style(app)
    lib = Library(db)
    with lib.db.transaction() as c:
        total = c.execute("SELECT COUNT(*) FROM tracks WHERE status = 'ok'").fetchone()[0]
    w = MainWindow(lib, settings=Settings.at(work / "settings.ini"), audio_backend="null")
    w.resize(*SIZE)
    w.show()
    m = w.model
    wait_until(app, lambda: m.rowCount() == total, 30, "the library")
    wait_until(app, lambda: len(m.snapshot.tags) >= total, 30, "the analysis labels")
    w.listeners.switch("ann")
    settle(app, w)
    # play a song the listener has not rated (one from the middle of the list) and pause it
    with lib.db.transaction() as c:
        rated = {r[0] for r in c.execute("SELECT track_id FROM ratings")}
    candidates = [t for t in m.track_ids() if t not in rated] or list(m.track_ids())
    song = candidates[len(candidates) // 2]
    w.transport.play_track(song)
    wait_until(app, lambda: w.playback.current_track_id() == song, 15, "the song to start")
    wait_ms(1500)
    w.transport.pause()
    wait_until(app, lambda: w.playback.state() == "paused", 10, "pause")
    wait_until(app, lambda: len(w.up_next.list.entries.entries) >= 5, 30, "Up next")
    up_next = lambda: [e.track_id for e in w.up_next.list.entries.entries]  # noqa: E731
    for _ in range(20):  # until Up next has settled (the same songs a second apart)
        settle(app, w)
        first = up_next()
        wait_ms(1000)  # the covers load off the GUI thread meanwhile
        if up_next() == first:
            break
    settle(app, w)
    w.notices.clear()
    w.statusBar().clearMessage()
    w.right_tabs.setCurrentWidget(w.up_next)
    w.view.select_track(song)
    settle(app, w)
    shoot(app, w, out / "library.png")

    # Up next: its reasons, with the panel widened a little so they read in full
    before = w.splitter.sizes()
    wider = list(before)
    if len(wider) >= 2:
        wider[-2], wider[-1] = wider[-2] - 140, wider[-1] + 140
        w.splitter.setSizes(wider)
    settle(app, w)
    wait_ms(300)
    shoot(app, w, out / "up-next.png")
    w.splitter.setSizes(before)

    # track details of the playing song
    d = w.details.show_details(song)
    settle(app, w)
    wait_until(app, lambda: d.spectrogram.has_image(), 180, "the spectrogram")  # librosa's first call is slow
    settle(app, w)
    wait_ms(500)
    shoot(app, d, out / "track-details.png")
    d.close()

    # the album grid
    w.albums.show_grid(True)
    settle(app, w)
    wait_ms(1500)
    settle(app, w)
    w.notices.clear()
    shoot(app, w, out / "album-grid.png")
    w.albums.show_grid(False)

    w.close()
    settle(app, w, 10)
    lib.close()


def wait_ms(ms: int) -> None:
    from PySide6.QtTest import QTest

    QTest.qWait(ms)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("music_dir", type=Path, help="one folder per album (or per Debian package)")
    ap.add_argument("out_dir", type=Path, help="where the PNG files go (docs/screenshots)")
    ap.add_argument("--limit", type=int, default=20, help="songs at most (default 20; analysis costs CPU)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = ap.parse_args(argv)
    if not args.music_dir.is_dir():
        ap.error(f"no such folder: {args.music_dir}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tastebuds-"))
    os.environ["PLAYER_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["PLAYER_AUDIO"] = "null"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        db = build_library(args.music_dir.resolve(), work, args.limit)
        rate_some(db)
        take_pictures(db, work, args.out_dir.resolve())
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
