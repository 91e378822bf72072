"""Loudness in the library (player/library/loudness.py): real files at known levels, measured by the pass,
stored in a real SQLite library, read back as the player's gains and as the JSON fields."""

from __future__ import annotations

import os

import numpy as np
import pytest

from audiogen import write_audio
from player.audio.gain import GainPolicy, GainSettings
from player.audio.loudness import album_loudness, measure_array
from player.library.loudness import (album_key, gains_for_track, loudness_json, measure_pending, measure_track,
                                     pending_loudness, refresh_albums, save_loudness)
from player.library.scan import scan

SR = 44100


def sine(dbfs: float, seconds: float = 8.0, freq: float = 1000.0, sr: int = SR) -> np.ndarray:
    """A stereo sine whose peak is ``dbfs`` in both channels: BS.1770 reads it at ``dbfs`` LUFS at 1 kHz."""
    t = np.arange(int(seconds * sr)) / sr
    x = (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x, x], axis=1)


def _by_name(library) -> dict:
    return {os.path.basename(t.path): t for t in library.tracks()}


def test_a_minus_20_dbfs_sine_reads_minus_20_lufs_from_file_to_json(library, tmp_path):
    write_audio(tmp_path / "m" / "sine.flac", sine(-20.0), SR, tags={"title": "Sine"})
    scan(library, [tmp_path / "m"])
    track = library.tracks()[0]
    assert pending_loudness(library) == [track.id]
    saved = []
    measure_pending(library, report=saved.append)
    assert pending_loudness(library) == [] and saved[0].measured == 1 and saved[0].failures == []
    got = loudness_json(library, track.id)
    assert got["loudness_lufs"] == pytest.approx(-20.0, abs=0.1)
    assert got["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert got["track_gain_db"] == pytest.approx(2.0, abs=0.1)  # to -18 LUFS
    assert got["album_gain_db"] is None  # no album tag
    gains = gains_for_track(library, track.id)
    assert set(gains) == {"track_loudness", "track_peak"}
    assert gains["track_loudness"] == pytest.approx(-20.0, abs=0.1)
    assert gains["track_peak"] == pytest.approx(0.1, rel=0.02)
    # The player's gain policy takes it as it is: +2 dB, in album mode too (no album: the track's).
    policy = GainPolicy(lookup=lambda i: gains_for_track(library, i), settings=GainSettings("album"))
    assert policy.gain_db(track) == pytest.approx(2.0, abs=0.1)


def test_an_album_of_two_tracks_at_different_levels_gets_one_album_gain(library, tmp_path):
    quiet, loud = sine(-23.0, 6.0), sine(-17.0, 10.0)  # within 10 LU: no block of either is gated out
    root = tmp_path / "m"
    write_audio(root / "cd1" / "a.flac", quiet, SR, tags={"album": "Levels", "albumartist": "Tester", "artist": "A"})
    write_audio(root / "cd2" / "b.flac", loud, SR, tags={"album": "LEVELS ", "albumartist": "tester", "artist": "B"})
    write_audio(root / "other.flac", sine(-30.0, 5.0), SR, tags={"album": "Levels", "artist": "Someone else"})
    scan(library, [root])
    measure_pending(library)
    t = _by_name(library)
    a, b, other = (loudness_json(library, t[n].id) for n in ("a.flac", "b.flac", "other.flac"))
    assert a["album_gain_db"] == b["album_gain_db"] is not None  # one album, across both folders
    assert a["track_gain_db"] == pytest.approx(5.0, abs=0.1) and b["track_gain_db"] == pytest.approx(-1.0, abs=0.1)
    assert b["track_gain_db"] < a["album_gain_db"] < a["track_gain_db"]
    # exactly the loudness of the two tracks as one programme (BS.1770's gates over all their blocks)
    whole = measure_array(np.concatenate([quiet, loud]), SR).integrated
    parts = [measure_array(x, SR) for x in (quiet, loud)]
    assert album_loudness(parts) == pytest.approx(whole, abs=0.02)
    assert a["album_gain_db"] == pytest.approx(-18.0 - whole, abs=0.02)
    assert other["album_gain_db"] == pytest.approx(other["track_gain_db"])  # another artist's album of one
    # the player's album mode gets the album's loudness and its loudest peak
    ga, gb = gains_for_track(library, t["a.flac"].id), gains_for_track(library, t["b.flac"].id)
    assert ga["album_loudness"] == gb["album_loudness"] == pytest.approx(whole, abs=0.02)
    assert ga["album_peak"] == gb["album_peak"] == pytest.approx(gb["track_peak"])
    policy = GainPolicy(lookup=lambda i: gains_for_track(library, i),
                        settings=GainSettings("album", prevent_clipping=False))
    assert policy.gain_db(t["a.flac"]) == policy.gain_db(t["b.flac"]) == pytest.approx(-18.0 - whole, abs=0.02)
    # a track removed from the library leaves the album
    with library.db.transaction() as c:
        c.execute("DELETE FROM tracks WHERE id = ?", (t["b.flac"].id,))
    assert refresh_albums(library) == 1
    assert loudness_json(library, t["a.flac"].id)["album_gain_db"] == pytest.approx(a["track_gain_db"], abs=0.02)


def test_replaygain_tags_win_over_the_measurement(library, tmp_path):
    tags = {"album": "Tagged", "artist": "T", "replaygain_track_gain": "-3.21 dB", "replaygain_track_peak": "0.5",
            "replaygain_album_gain": "-4.50 dB", "replaygain_album_peak": "0.75"}
    write_audio(tmp_path / "m" / "tagged.flac", sine(-20.0, 5.0), SR, tags=tags)
    write_audio(tmp_path / "m" / "half.flac", sine(-20.0, 5.0), SR,
                tags={"album": "Half", "artist": "T", "replaygain_track_gain": "+1.5 dB"})
    scan(library, [tmp_path / "m"])
    measure_pending(library)
    t = _by_name(library)
    got = loudness_json(library, t["tagged.flac"].id)
    assert got["track_gain_db"] == -3.21 and got["album_gain_db"] == -4.5
    assert got["loudness_lufs"] == pytest.approx(-20.0, abs=0.1)  # the measurement is kept alongside
    gains = gains_for_track(library, t["tagged.flac"].id)
    assert gains["track_gain"] == -3.21 and gains["track_peak"] == 0.5
    assert gains["album_gain"] == -4.5 and gains["album_peak"] == 0.75
    assert GainPolicy(lookup=lambda i: gains_for_track(library, i),
                      settings=GainSettings("track")).gain_db(t["tagged.flac"]) == pytest.approx(-3.21)
    # what the tags lack, the measurement fills in: the peak, and the album (of one track)
    half = gains_for_track(library, t["half.flac"].id)
    assert half["track_gain"] == 1.5 and half["track_peak"] == pytest.approx(0.1, rel=0.02)
    assert "album_gain" not in half and half["album_loudness"] == pytest.approx(-20.0, abs=0.1)


def test_a_changed_file_is_measured_again(library, tmp_path):
    path = write_audio(tmp_path / "m" / "song.flac", sine(-20.0, 5.0), SR)
    scan(library, [tmp_path / "m"])
    measure_pending(library)
    track = library.tracks()[0]
    assert loudness_json(library, track.id)["loudness_lufs"] == pytest.approx(-20.0, abs=0.1)
    write_audio(path, sine(-30.0, 6.0), SR)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    scan(library, [tmp_path / "m"])
    assert pending_loudness(library) == [track.id]
    # the old file's values are not used meanwhile
    assert gains_for_track(library, track.id) == {}
    assert loudness_json(library, track.id)["loudness_lufs"] is None
    measure_pending(library)
    assert pending_loudness(library) == []
    assert loudness_json(library, track.id)["loudness_lufs"] == pytest.approx(-30.0, abs=0.1)


def test_a_measurement_of_a_file_that_changed_before_the_write_is_not_saved(library, tmp_path):
    path = write_audio(tmp_path / "m" / "song.flac", sine(-20.0, 4.0), SR)
    scan(library, [tmp_path / "m"])
    track = library.tracks()[0]
    measured = measure_track(track)
    write_audio(path, sine(-12.0, 4.0), SR)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    scan(library, [tmp_path / "m"])
    assert save_loudness(library, [measured]) == [track.id]
    assert pending_loudness(library) == [track.id]
    measure_pending(library)
    assert loudness_json(library, track.id)["loudness_lufs"] == pytest.approx(-12.0, abs=0.1)


def test_unreadable_and_silent_files(library, tmp_path):
    root = tmp_path / "m"
    write_audio(root / "silent.flac", np.zeros((SR * 3, 2), np.float32), SR)
    write_audio(root / "ok.flac", sine(-20.0, 3.0), SR)
    scan(library, [root])
    t = _by_name(library)
    # damaged after the import: the pass records why, and does not try again until the file changes
    (root / "ok.flac").write_bytes(b"fLaC" + bytes(4000))
    with library.db.transaction() as c:  # the library still believes in the file (no rescan yet)
        c.execute("UPDATE tracks SET size = ?, mtime = ? WHERE id = ?",
                  (os.path.getsize(root / "ok.flac"), os.stat(root / "ok.flac").st_mtime, t["ok.flac"].id))
    saved = []
    measure_pending(library, report=saved.append)
    failures = [f for s in saved for f in s.failures]
    assert len(failures) == 1 and failures[0][0] == t["ok.flac"].id
    assert failures[0][1].startswith("cannot decode: ") and "\n" not in failures[0][1]
    assert pending_loudness(library) == []  # not retried
    assert gains_for_track(library, t["ok.flac"].id) == {}
    assert loudness_json(library, t["ok.flac"].id) == {"loudness_lufs": None, "true_peak_dbtp": None,
                                                       "track_gain_db": None, "album_gain_db": None}
    silent = loudness_json(library, t["silent.flac"].id)
    assert silent["loudness_lufs"] is None and silent["track_gain_db"] is None  # no level to bring anywhere
    assert gains_for_track(library, t["silent.flac"].id) == {}


def test_album_key_rule():
    assert album_key("Levels", "Tester", "A") == album_key(" levels ", "TESTER", "B")
    assert album_key("Levels", None, "A") == album_key("levels", "", "a") != album_key("Levels", None, "B")
    assert album_key("", "X", "Y") is None and album_key(None) is None
    assert album_key("Straße", "Ä") == album_key("STRASSE", "ä")  # case-folded, not just lower-cased
