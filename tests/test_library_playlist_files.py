"""Playlist files (M3U/M3U8/PLS/XSPF) written and read by the tests, with real audio files."""

from __future__ import annotations

import hashlib
import os

import pytest

from audiogen import write_audio
from player.library.playlist_files import (
    PlaylistFileError,
    _relative_ok,
    export_playlist,
    import_playlist,
    read_playlist,
)
from player.library.playlists import PlaylistError, Playlists
from player.library.scan import scan


def fingerprint(root):
    """Every music file's bytes and mtime: the player must never write them."""
    out = {}
    for folder, _, files in os.walk(os.fsencode(root)):
        for name in files:
            p = os.path.join(folder, name)
            with open(p, "rb") as fh:
                out[p] = (hashlib.sha1(fh.read()).hexdigest(), os.stat(p).st_mtime_ns)
    return out


@pytest.fixture
def lib(library, music_dir):
    odd = music_dir / "odd"
    write_audio(odd / "Café #1 & more.wav", freq=300, tags={"title": "Café", "artist": "Zoë"})
    write_audio(odd / "tmp.wav", freq=310)
    os.rename(os.fsencode(odd / "tmp.wav"), os.fsencode(odd) + b"/caf\xe9-latin1.wav")  # a name that is not UTF-8
    write_audio(odd / "new\nline.wav", freq=320)
    scan(library, [music_dir])
    library.music_dir = music_dir
    return library


def by_title(lib):
    return {t.title: t.id for t in lib.tracks()}


@pytest.mark.parametrize("ext", [".m3u", ".m3u8", ".pls", ".xspf"])
@pytest.mark.parametrize("relative", [None, False])
def test_export_then_import_keeps_the_order_exactly(lib, tmp_path, ext, relative):
    pl = Playlists(lib)
    ids = [t.id for t in lib.tracks()]
    order = ids[::-1] + ids[:3]  # every song (odd names included), some twice
    pl.create("Everything", track_ids=order)
    before = fingerprint(lib.music_dir)
    out = tmp_path / "lists" / f"all{ext}"
    out.parent.mkdir()
    assert export_playlist(lib, "everything", out, relative=relative) == len(order)
    text = out.read_bytes()
    music = os.fsencode(lib.music_dir)
    locations = [ln for ln in text.splitlines() if ln and not ln.startswith((b"#", b"[", b"Title", b"Length",
                                                                              b"Number", b"Version", b"<?", b"<p"))]
    if ext == ".pls":
        locations = [ln.split(b"=", 1)[1] for ln in locations if ln.startswith(b"File")]
    if ext == ".xspf":
        locations = [ln.split(b">")[1].split(b"<")[0] for ln in locations if b"<location>" in ln]
    assert len(locations) == len(order)
    newline = [loc for loc in locations if b"%0A" in loc]  # a name with a line break: percent-escaped
    assert len(newline) == 1 and (ext == ".xspf" or newline[0].startswith(b"file://"))
    plain = [loc for loc in locations if b"%0A" not in loc]
    if relative is None:  # the songs share a root with the playlist's folder: relative paths
        assert all(loc.startswith(b"../music/") for loc in plain)
    else:
        assert all(loc.startswith(music) or loc.startswith(b"file://") for loc in plain)
    report = import_playlist(lib, out, name="Back")
    assert report.unresolved == [] and report.skipped == [] and report.imported == []
    assert pl.track_ids("Back") == order
    assert fingerprint(lib.music_dir) == before


def test_relative_only_when_a_root_is_shared():
    assert _relative_ok("/home/ann/Music/Playlists", ["/home/ann/Music/a/b.mp3", "/home/ann/Music/c.mp3"])
    assert _relative_ok("/home/ann/Music", ["/home/ann/Music/a/b.mp3"])
    assert _relative_ok("/home/ann/x/y", ["/home/ann/Music/a.mp3"])  # two folders up
    assert not _relative_ok("/home/ann/x/y/z", ["/home/ann/Music/a.mp3"])
    assert not _relative_ok("/home/ann/lists", ["/mnt/music/a.mp3"])  # only the file-system root in common


def test_m3u_with_every_kind_of_location_and_junk(lib, tmp_path):
    m = lib.music_dir
    write_audio(m / "later" / "Fresh.ogg", freq=500, tags={"title": "Fresh", "artist": "New Band"})  # not scanned
    (m / "notes.txt").write_text("not music")
    (m / "broken.mp3").write_bytes(b"\x00garbage" * 50)
    lines = [
        "#EXTM3U",
        "#PLAYLIST:Everything at once",
        "#EXTINF:2,The Band - Loud",
        str(m / "rock" / "01 - Loud.mp3"),  # 4: absolute
        "rock/02 - Quiet.ogg",  # 5: relative to the playlist's folder
        "file://" + str(m / "odd" / "Caf%C3%A9%20%231%20%26%20more.wav"),  # 6: a URL with escapes
        r"C:\Users\ann\Music\jazz\Blue.flac",  # 7: Windows: its tail under the playlist's folder
        r"jazz\untagged_song.wav",  # 8: a relative Windows path
        "",
        "# a comment",
        "http://radio.example/stream.mp3",  # 11
        "/no/such/song.mp3",  # 12
        "\x00\x01\x02binary",  # 13
        "x" * 10_240,  # 14
        "later/Fresh.ogg",  # 15: a file not yet in the library
        "notes.txt",  # 16
        "broken.mp3",  # 17
        "jazz",  # 18: a folder
        "voice.opus",  # 19
    ]
    path = m / "mix.m3u8"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    before = fingerprint(m)
    report = import_playlist(lib, path)
    t = by_title(lib)
    assert report.playlist.name == "Everything at once"
    assert Playlists(lib).track_ids(report.playlist.id) == [
        t["Loud"], t["Quiet"], t["Café"], t["Blue"], lib.track_by_path(m / "jazz" / "untagged_song.wav").id,
        t["Fresh"], lib.track_by_path(m / "voice.opus").id]
    assert report.imported == [str(m / "later" / "Fresh.ogg")]
    fresh = lib.track(t["Fresh"])
    assert fresh.artist == "New Band" and fresh.status == "ok"
    problems = {line: reason for line, _, reason in report.unresolved}
    assert set(problems) == {11, 12, 16, 17, 18}
    assert "stream" in problems[11] and "no such file" in problems[12] and "not a music file" in problems[16]
    assert "folder" in problems[18] and problems[17]
    assert dict(report.skipped) == {13: "binary data, not text", 14: "a line of 10,240 characters (binary data or a broken file?)"}
    assert "not found" in report.summary()
    assert fingerprint(m) == before  # the music files were only read


def test_legacy_m3u_in_cp1252_and_raw_bytes(lib, tmp_path):
    m = lib.music_dir
    data = b"#EXTINF:2,Zo\xeb - Caf\xe9\n" + b"odd/Caf\xe9 #1 & more.wav\n" + b"odd/caf\xe9-latin1.wav\n"
    path = m / "legacy.m3u"
    path.write_bytes(data)
    parsed = read_playlist(path)
    assert parsed.entries[0].title == "Zoë - Café"
    report = import_playlist(lib, path)
    t = by_title(lib)
    latin = next(x for x in lib.tracks() if "latin1" in x.display_path)
    assert Playlists(lib).track_ids("legacy") == [t["Café"], latin.id]
    assert report.unresolved == []


def test_missing_files_keep_their_place(lib, tmp_path):
    m = lib.music_dir
    blue = m / "jazz" / "Blue.flac"
    kept = blue.read_bytes()
    blue.unlink()
    scan(lib, [m])
    path = m / "with-missing.m3u"
    path.write_text("jazz/Blue.flac\nrock/01 - Loud.mp3\n")
    report = import_playlist(lib, path)
    entries = Playlists(lib).entries(report.playlist.id)
    assert [e.track.title for e in entries] == ["Blue", "Loud"] and entries[0].track.status == "missing"
    blue.write_bytes(kept)


def test_pls_orders_by_number_and_reads_titles(lib):
    m = lib.music_dir
    (m / "list.pls").write_text(
        "[playlist]\nFile2=rock/02 - Quiet.ogg\nTitle2=Quiet one\nLength2=2\n"
        f"File1={m / 'jazz' / 'Blue.flac'}\nFile3=missing.ogg\nbogus line\nNumberOfEntries=3\nVersion=2\n")
    parsed = read_playlist(m / "list.pls")
    assert [e.title for e in parsed.entries] == [None, "Quiet one", None]
    report = import_playlist(lib, m / "list.pls")
    t = by_title(lib)
    assert Playlists(lib).track_ids("list") == [t["Blue"], t["Quiet"]]
    assert [line for line, _, _ in report.unresolved] == [6]
    assert report.skipped == [(7, "not a 'key=value' line of a PLS file")]


def test_xspf_reads_namespaced_relative_locations(lib):
    m = lib.music_dir
    (m / "list.xspf").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<playlist version="1" xmlns="http://xspf.org/ns/0/">\n'
        "  <title>Night drive</title>\n"
        "  <trackList>\n"
        "    <track><location>jazz/Blue.flac</location><title>Blue</title><duration>2000</duration></track>\n"
        "    <track>\n      <location>odd/Caf%C3%A9%20%231%20%26%20more.wav</location>\n    </track>\n"
        "    <track><title>no location</title></track>\n"
        "    <track><location>https://example.org/a.ogg</location></track>\n"
        "  </trackList>\n</playlist>\n", encoding="utf-8")
    report = import_playlist(lib, m / "list.xspf")
    t = by_title(lib)
    assert report.playlist.name == "Night drive"
    assert Playlists(lib).track_ids("Night drive") == [t["Blue"], t["Café"]]
    assert report.skipped == [(9, "a track without a location")]
    assert report.unresolved[0][0] == 10 and "stream" in report.unresolved[0][2]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<playlist xmlns="http://xspf.org/ns/0/"><trackList><track><location>&lol9;</location></track></trackList></playlist>
"""


@pytest.mark.parametrize("content, words", [
    (BILLION_LAUGHS, "refused"),
    ('<?xml version="1.0"?><!DOCTYPE p SYSTEM "http://evil/x.dtd"><playlist/>', "refused"),
    ("<playlist><trackList><track><location>a.ogg</location></track></trackList>", "not a valid XSPF file"),
    ("<html><body/></html>", "root element is not <playlist>"),
])
def test_bad_xspf_is_refused_in_words(lib, content, words):
    path = lib.music_dir / "bad.xspf"
    path.write_text(content)
    with pytest.raises(PlaylistFileError, match=words) as info:
        import_playlist(lib, path)
    assert "\n" not in str(info.value)
    assert Playlists(lib).list() == []


def test_names_and_mistakes(lib, tmp_path):
    m = lib.music_dir
    (m / "a.m3u").write_text("rock/01 - Loud.mp3\n")
    import_playlist(lib, m / "a.m3u")
    with pytest.raises(PlaylistError, match="already exists"):
        import_playlist(lib, m / "a.m3u")
    (m / "a.m3u").write_text("jazz/Blue.flac\nrock/01 - Loud.mp3\n")
    import_playlist(lib, m / "a.m3u", replace=True)
    t = by_title(lib)
    assert Playlists(lib).track_ids("a") == [t["Blue"], t["Loud"]]
    (m / "none.m3u").write_text("/nope/x.mp3\nhttp://x/y\n")
    with pytest.raises(PlaylistFileError, match="none of the 2 songs .* could be found .*line 1"):
        import_playlist(lib, m / "none.m3u")
    assert Playlists(lib).find("none") is None
    (m / "empty.m3u").write_text("#EXTM3U\n")
    assert import_playlist(lib, m / "empty.m3u").entries == 0
    for bad, words in [(tmp_path / "nope.m3u", "no such playlist file"), (m, "is a folder")]:
        with pytest.raises(PlaylistFileError, match=words):
            import_playlist(lib, bad)
    with pytest.raises(PlaylistFileError, match="should end in .m3u"):
        export_playlist(lib, "a", tmp_path / "a.txt")
    with pytest.raises(PlaylistFileError, match="should end in .m3u"):
        export_playlist(lib, "a", tmp_path / "x.mp3")  # never a music file
    with pytest.raises(PlaylistFileError, match="no such folder"):
        export_playlist(lib, "a", tmp_path / "no" / "dir" / "a.m3u")


def test_export_of_a_smart_playlist_and_titles_without_line_breaks(lib, tmp_path):
    pl = Playlists(lib)
    lib.db.conn.execute("UPDATE tracks SET title = 'Evil\nTitle\x1b[31m' WHERE title = 'Loud'")
    pl.create("band", query='artist:"The Band" sort:title')
    out = tmp_path / "band.m3u"
    assert export_playlist(lib, "band", out) == 2
    text = out.read_text(encoding="utf-8")
    assert "#EXTINF:2,The Band - Evil Title [31m" in text
    assert len([ln for ln in text.splitlines() if ln and not ln.startswith("#")]) == 2
    import_playlist(lib, out, name="band copy")
    assert pl.track_ids("band copy") == pl.track_ids("band")
