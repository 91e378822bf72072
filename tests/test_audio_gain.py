"""Playback gain (off / track / album / auto, preamp, clipping prevention) and crossfade, end to end: real
files, real decoding, the null output; the output compared with the decoded files."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from audiogen import write_audio
from player.audio import FileTrack, NullBackend, Player
from player.audio.gain import album_in_order
from player.audio.reader import read_audio

SR = 44100


def T(path, title, album=None, tracknumber=None, id=None) -> FileTrack:  # noqa: N802 - a library-like track
    return FileTrack(path=path, title=title, artist="Band", album=album, id=id, tracknumber=tracknumber)


def noise(seconds: float, seed: int, amp: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(amp * rng.standard_normal((int(seconds * SR), 2)), -0.9, 0.9).astype(np.float32)


def play_all(tracks, **kw) -> tuple[np.ndarray, list]:
    backend = NullBackend(realtime=False, capture=True)
    player = Player(backend=backend, **kw)
    events, done = [], threading.Event()

    def on(ev):
        events.append(ev)
        if ev.kind == "state" and ev.data["state"] == "stopped":
            done.set()

    player.subscribe(on)
    player.queue.set_tracks(tracks)
    player.play()
    assert done.wait(20)
    player.close()
    return backend.captured(), events


def db(x: float) -> float:
    return 20 * math.log10(x)


def rms_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(np.asarray(x, np.float64) ** 2)))


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    folder = tmp_path_factory.mktemp("album")
    paths = [write_audio(folder / f"{i}.flac", noise(0.6, seed=i), SR) for i in (1, 2, 3)]
    decoded = [read_audio(p)[0] for p in paths]
    a = T(str(paths[0]), "a", "X", 1, id=1)
    b = T(str(paths[1]), "b", "X", 2, id=2)
    c = T(str(paths[2]), "c", "Y", 1, id=3)
    values = {1: {"track_gain": -6.0, "album_gain": -4.0}, 2: {"track_gain": -2.0, "album_gain": -4.0},
              3: {"track_gain": -3.0}}
    return {"tracks": (a, b, c), "decoded": dict(zip("abc", decoded)), "lookup": values.get}


def gains_heard(out, decoded, order) -> list[float]:
    """The gain (dB) of each track in the output, from its RMS against the decoded file's."""
    got, at = [], 0
    for name in order:
        ref = decoded[name]
        part = out[at:at + len(ref)]
        np.testing.assert_allclose(part, ref * (part[ref != 0] / ref[ref != 0]).mean(), rtol=1e-5, atol=1e-7)
        got.append(rms_db(part) - rms_db(ref))
        at += len(ref)
    assert at == len(out)
    return got


@pytest.mark.parametrize("mode,order,expected", [
    ("off", "abc", [0.0, 0.0, 0.0]),
    ("track", "abc", [-6.0, -2.0, -3.0]),
    ("album", "abc", [-4.0, -4.0, -3.0]),  # c has no album gain: its track gain
    ("auto", "abc", [-4.0, -4.0, -3.0]),  # a then b: the album in order; c alone
    ("auto", "bac", [-2.0, -6.0, -3.0]),  # b before a is not the album's order
])
def test_gain_modes(album, mode, order, expected):
    by = dict(zip("abc", album["tracks"]))
    out, events = play_all([by[n] for n in order], gain_lookup=album["lookup"], gain_mode=mode)
    assert gains_heard(out, album["decoded"], order) == pytest.approx(expected, abs=0.01)
    assert [e.data["gain_db"] for e in events if e.kind == "track"] == pytest.approx(expected, abs=1e-9)


def test_preamp_and_clipping_prevention(album):
    a = album["tracks"][0]
    peak = float(np.abs(album["decoded"]["a"]).max())
    values = {1: {"track_gain": 12.0, "track_peak": peak}}
    out, _ = play_all([a], gain_lookup=values.get, gain_mode="track", preamp_db=3.0)
    assert np.abs(out).max() <= 1.0 + 1e-6  # +15 dB would clip: limited to peak x gain = 1
    assert rms_db(out) - rms_db(album["decoded"]["a"]) == pytest.approx(-db(peak), abs=0.01)
    out, _ = play_all([a], gain_lookup=values.get, gain_mode="track", preamp_db=3.0, prevent_clipping=False)
    assert rms_db(out) - rms_db(album["decoded"]["a"]) == pytest.approx(15.0, abs=0.01)


def test_files_outside_the_library_use_their_replaygain_tags(tmp_path):
    import mutagen

    path = write_audio(tmp_path / "tagged.ogg", noise(0.5, seed=7), SR)
    f = mutagen.File(path)
    f["REPLAYGAIN_TRACK_GAIN"] = "-8.00 dB"
    f.save()
    ref = read_audio(path)[0]
    out, _ = play_all([FileTrack.from_path(path)], gain_mode="auto")
    assert rms_db(out) - rms_db(ref) == pytest.approx(-8.0, abs=0.01)


def test_changing_the_gain_while_playing_takes_effect(album):
    manual = NullBackend(manual=True, capture=True)
    player = Player(backend=manual, gain_lookup=album["lookup"])
    try:
        a = album["tracks"][0]
        player.queue.set_tracks([a])
        player.play()
        manual.advance(0.2)
        player.set_gain("track")
        manual.advance(0.3)
        player.sync()
        assert player.gain_settings.mode == "track"
        out = manual.captured()
        ref = album["decoded"]["a"]
        tail = out[-int(0.1 * SR):]
        at = len(out) - len(tail) - int(0.2 * SR) - int(0.010 * SR) + int(0.2 * SR)  # fade-out, then from 0.2 s on
        assert rms_db(tail) - rms_db(ref[at:at + len(tail)]) == pytest.approx(-6.0, abs=0.05)
        with pytest.raises(ValueError, match="unknown gain mode"):
            player.set_gain("loud")
    finally:
        player.close()


# -- crossfade ------------------------------------------------------------------------------------------

def _xfade_files(tmp_path, seconds=(3.0, 3.0), seeds=(11, 12)):
    paths = [write_audio(tmp_path / f"x{i}.wav", noise(s, seed), SR) for i, (s, seed) in enumerate(zip(seconds, seeds))]
    return paths, [read_audio(p)[0] for p in paths]


def equal_power(a_tail: np.ndarray, b_head: np.ndarray) -> np.ndarray:
    n = len(a_tail)
    theta = (np.arange(n) + 0.5) * (math.pi / 2 / n)
    return a_tail * np.cos(theta)[:, None] + b_head * np.sin(theta)[:, None]


def test_crossfade_is_equal_power_and_exact_around_it(tmp_path):
    (pa, pb), (a, b) = _xfade_files(tmp_path)
    out, events = play_all([FileTrack.from_path(pa), FileTrack.from_path(pb)], crossfade=1.0)
    x = SR
    assert len(out) == len(a) + len(b) - x
    assert np.array_equal(out[:len(a) - x], a[:-x])  # untouched before the fade …
    assert np.array_equal(out[len(a):], b[x:])  # … and after it
    np.testing.assert_allclose(out[len(a) - x:len(a)], equal_power(a[-x:], b[:x]), atol=1e-6)
    # uncorrelated noise: the power stays constant through the fade (cos^2 + sin^2 = 1)
    steady = rms_db(out[:len(a) - x])
    win = SR // 20
    powers = [rms_db(out[i:i + win]) for i in range(len(a) - x, len(a) - win, win)]
    assert max(abs(p - steady) for p in powers) < 0.5
    ended = [e for e in events if e.kind == "ended"]
    assert ended[0].data["seconds_played"] == pytest.approx(2.0, abs=1e-3)  # a ends where b begins


def test_crossfade_is_a_third_of_a_short_track(tmp_path):
    (pa, pb), (a, b) = _xfade_files(tmp_path, seconds=(3.0, 1.5))
    out, _ = play_all([FileTrack.from_path(pa), FileTrack.from_path(pb)], crossfade=5.0)
    x = len(b) // 3
    assert len(out) == len(a) + len(b) - x
    np.testing.assert_allclose(out[len(a) - x:len(a)], equal_power(a[-x:], b[:x]), atol=1e-6)


def test_no_crossfade_inside_an_album_played_in_order(album):
    a, b, c = album["tracks"]
    assert album_in_order(a, b) and not album_in_order(b, a) and not album_in_order(b, c)
    out, _ = play_all([a, b], crossfade=10.0)
    ref = np.concatenate([album["decoded"]["a"], album["decoded"]["b"]])
    assert np.array_equal(out, ref)  # gapless, bit for bit
    out, _ = play_all([b, c], crossfade=0.3)  # another album: crossfaded (0.2 s: a third of 0.6 s)
    assert len(out) == len(album["decoded"]["b"]) + len(album["decoded"]["c"]) - int(0.6 * SR) // 3


def test_play_next_after_the_crossfade_was_decoded_crossfades_into_the_new_track(tmp_path):
    (pa, pb, pd), (a, b, d) = _xfade_files(tmp_path, seconds=(3.0, 3.0, 3.0), seeds=(1, 2, 3))
    manual = NullBackend(manual=True, capture=True)
    player = Player(backend=manual, crossfade=1.0)
    try:
        player.queue.set_tracks([FileTrack.from_path(pa), FileTrack.from_path(pb)])
        player.play()
        manual.advance(1.5)
        rend = player._renderer
        deadline = time.monotonic() + 5
        while rend.w < int(3.2 * SR) and time.monotonic() < deadline:  # the fade into b is in the ring
            time.sleep(0.002)
        assert rend.w >= int(3.2 * SR)
        player.queue.insert_next(FileTrack.from_path(pd))
        manual.advance(6.0)
        player.sync()
        out = manual.captured()
    finally:
        player.close()
    x = SR
    assert len(out) == len(a) + len(d) + len(b) - 2 * x  # a, then d (play next), then b
    assert np.array_equal(out[:len(a) - x], a[:-x])
    np.testing.assert_allclose(out[len(a) - x:len(a)], equal_power(a[-x:], d[:x]), atol=1e-6)
    assert np.array_equal(out[len(a):len(a) + len(d) - 2 * x], d[x:-x])
    np.testing.assert_allclose(out[len(a) + len(d) - 2 * x:len(a) + len(d) - x], equal_power(d[-x:], b[:x]),
                               atol=1e-6)
