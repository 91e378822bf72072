"""The playback engine end to end: real files (tests/audiogen.py), real decoding, the null output."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from audiogen import write_audio
from player.audio import (AudioUnavailable, FileTrack, NullBackend, Player, PlayerEvent, is_skip,
                          make_backend)
from player.audio.reader import read_audio

SR = 44100


def noise(seconds: float, sr: int = SR, channels: int = 2, seed: int = 0, amp: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(amp * rng.standard_normal((int(seconds * sr), channels)), -0.95, 0.95).astype(np.float32)


def decoded(path) -> np.ndarray:
    """The whole file as the reader decodes it (frames, channels)."""
    return read_audio(path)[0]


def stereo(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x[:, :2]


def track(path) -> FileTrack:
    return FileTrack.from_path(path)


def find(haystack: np.ndarray, needle: np.ndarray) -> int:
    """Where ``needle`` (exact frames) occurs in ``haystack``; -1 if nowhere."""
    for i in np.flatnonzero(haystack[:, 0] == needle[0, 0]):
        if i + len(needle) <= len(haystack) and np.array_equal(haystack[i:i + len(needle)], needle):
            return int(i)
    return -1


class Events:
    def __init__(self, player: Player):
        self.items: list[PlayerEvent] = []
        self.cond = threading.Condition()
        player.subscribe(self._on)

    def _on(self, ev: PlayerEvent) -> None:
        with self.cond:
            self.items.append(ev)
            self.cond.notify_all()

    def of(self, *kinds) -> list[PlayerEvent]:
        with self.cond:
            return [e for e in self.items if e.kind in kinds]

    def titles(self, kind: str) -> list[str]:
        return [e.track.title for e in self.of(kind)]

    def wait(self, pred, timeout: float = 10.0) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(self.items), timeout)
        assert ok, f"timed out; events: {[(e.kind, getattr(e.track, 'title', None), e.data) for e in self.items]}"

    def wait_stopped(self, timeout: float = 10.0) -> PlayerEvent:
        self.wait(lambda evs: any(e.kind == "state" and e.data["state"] == "stopped" for e in evs), timeout)
        return [e for e in self.of("state") if e.data["state"] == "stopped"][-1]


@pytest.fixture
def make_player():
    made = []

    def make(backend=None, **kw):
        p = Player(backend=backend or NullBackend(realtime=False, capture=True), **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def manual():
    return NullBackend(manual=True, capture=True)


# -- gapless and the queue moving on ------------------------------------------------------------------

def test_gapless_output_is_the_exact_concatenation(tmp_path, make_player):
    a = write_audio(tmp_path / "a.wav", noise(1.3, channels=1, seed=1), SR)
    b = write_audio(tmp_path / "b.flac", noise(0.9, seed=2), SR)
    c = write_audio(tmp_path / "c.wav", noise(0.7, seed=3), SR)
    backend = NullBackend(realtime=False, capture=True)
    player = make_player(backend)
    events = Events(player)
    player.queue.set_tracks([track(a), track(b), track(c)])
    player.play()
    assert events.wait_stopped().data["reason"] == "end of queue"
    out = backend.captured()
    ref = np.concatenate([stereo(decoded(a)), decoded(b), decoded(c)])
    assert len(out) == len(ref)  # no inserted silence anywhere
    assert np.array_equal(out, ref)  # sample-exact: no gap, no overlap, no discontinuity
    assert events.titles("track") == ["a", "b", "c"]
    assert events.titles("ended") == ["a", "b", "c"]
    assert player.queue.current_index == 2
    assert player.state == "stopped"


def _album_signal(seconds: float = 4.0) -> np.ndarray:
    """One 'recording': partials with a slow envelope (a codec codes it without noise substitution)."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(0.1 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate([196, 294, 440, 659, 988]))
    x = x * (0.75 + 0.25 * np.sin(2 * np.pi * 0.7 * t))
    data = np.stack([x, 0.9 * np.roll(x, 37)], axis=1)
    return (np.round(data * 32767) / 32768).astype(np.float32)  # 16-bit values: lossless codecs are exact


def _split_album(tmp_path, ext, codec):
    """The signal cut into 3 tracks at frames that are no codec's frame multiple, each file encoded."""
    sig = _album_signal()
    cuts = [0, 44100 + 517, 2 * 44100 + 1300, len(sig)]
    paths = [write_audio(tmp_path / f"part{i}.{ext}", sig[cuts[i]:cuts[i + 1]], SR, codec=codec) for i in range(3)]
    return sig, cuts, paths


def _play_through(make_player, paths) -> np.ndarray:
    backend = NullBackend(realtime=False, capture=True)
    player = make_player(backend)
    events = Events(player)
    player.queue.set_tracks([p if isinstance(p, FileTrack) else track(p) for p in paths])
    player.play()
    assert events.wait_stopped().data["reason"] == "end of queue"
    assert len(events.titles("ended")) == 3 and not events.of("skipped")
    return backend.captured()


def test_gapless_alac_album_is_bit_exact(tmp_path, make_player):
    sig, _, paths = _split_album(tmp_path, "m4a", "alac")
    out = _play_through(make_player, paths)
    assert len(out) == len(sig) and np.array_equal(out, sig)


@pytest.mark.parametrize("ext,codec", [("m4a", None), ("mp3", "libmp3lame"), ("mp3", None)])
def test_gapless_lossy_album_has_no_gap_or_overlap(tmp_path, make_player, ext, codec):
    """AAC in MP4 (edit list, last frame cut to its packet) and MP3 with a LAME header (FFmpeg's LAME and
    libsndfile's): the encoder delay and padding are gone, so the joins fall where the cuts were."""
    sig, cuts, paths = _split_album(tmp_path, ext, codec)
    out = _play_through(make_player, paths)
    assert len(out) == len(sig)
    n = min(len(out), len(sig))
    err = out[:n] - sig[:n]
    level = np.sqrt(np.mean(sig ** 2))
    for join in cuts[1:3]:
        near = slice(join - 4096, join + 4096)
        scores = [np.dot(out[join - 4096 + k:join + 4096 + k, 0], sig[near, 0]) for k in range(-600, 601)]
        assert int(np.argmax(scores)) - 600 == 0, "shifted at the join"  # no gap, no overlap
        assert np.sqrt(np.mean(err[near] ** 2)) < 0.1 * level  # no click: within the codec's precision


def test_names_that_are_not_utf8_play_as_bytes_and_as_str(tmp_path, make_player):
    raw = [os.path.join(os.fsencode(tmp_path), name) for name in (b"caf\xe9.flac", b"\xff\xfe.m4a")]
    made = [write_audio(tmp_path / "a.flac", noise(0.3, seed=1), SR), write_audio(tmp_path / "b.m4a", noise(0.3, seed=2), SR)]
    for src, dst in zip(made, raw):
        os.rename(src, dst)
    tracks = [FileTrack(path=raw[0], title="bytes"), FileTrack.from_path(raw[1]),  # bytes, and a surrogate str
              FileTrack(path=os.fsdecode(raw[0]), title="str")]
    out = _play_through(make_player, tracks)
    assert len(out) == 3 * len(noise(0.3))


def test_end_of_track_advances_queue_position_and_duration(tmp_path, make_player, manual):
    a = write_audio(tmp_path / "a.wav", noise(1.0, seed=1), SR)
    b = write_audio(tmp_path / "b.wav", noise(1.5, seed=2), SR)
    player = make_player(manual)
    player.queue.set_tracks([track(a), track(b)])
    player.play()
    manual.advance(0.5)
    player.sync()
    assert player.current_track.title == "a" and player.queue.current_index == 0
    assert player.duration == pytest.approx(1.0, abs=1e-3)
    manual.advance(0.75)  # 0.25 s into b
    player.sync()
    assert player.queue.current_index == 1
    assert player.current_track.title == "b"
    assert player.position == pytest.approx(0.25, abs=0.01)
    assert player.duration == pytest.approx(1.5, abs=1e-3)
    manual.advance(5.0)
    player.sync()
    assert player.state == "stopped"


# -- seek and pause -------------------------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["wav", "ogg"])
def test_seek_lands_within_10_ms(tmp_path, make_player, manual, ext):
    path = write_audio(tmp_path / f"n.{ext}", noise(3.0, seed=4), SR)
    src = decoded(path)
    player = make_player(manual)
    player.queue.set_tracks([track(path)])
    player.play()
    manual.advance(0.5)
    player.seek(1.234)
    assert player.position == pytest.approx(1.234, abs=0.010)
    manual.advance(0.5)
    player.sync()
    out = manual.captured()
    tail = out[-4096:]  # well after the fade-in: exact source frames
    at = find(src, tail)
    assert at >= 0, "the output after the seek is not the file's audio"
    last_src_frame = at + len(tail)  # the source frame right after the last one output
    # output since the seek: the 10 ms fade-out of the old position, then the file from the target
    new_frames = len(out) - int(0.5 * SR) - int(np.ceil(0.010 * SR))
    started = (last_src_frame - new_frames) / SR
    assert started == pytest.approx(1.234, abs=0.010)
    assert player.position == pytest.approx(last_src_frame / SR, abs=0.010)


def test_seek_while_paused_and_seek_clamps_to_length(tmp_path, make_player, manual):
    path = write_audio(tmp_path / "n.wav", noise(2.0, seed=5), SR)
    src = decoded(path)
    player = make_player(manual)
    player.queue.set_tracks([track(path)])
    player.play()
    manual.advance(0.2)
    player.pause()
    manual.advance(0.1)
    player.seek(1.5)
    manual.advance(0.1)  # paused: nothing plays, but the seek is taken
    assert player.position == pytest.approx(1.5, abs=1e-3)
    manual.clear_capture()
    player.resume()
    manual.advance(0.2)
    out = manual.captured()
    assert len(out) == int(0.2 * SR)
    start = int(1.5 * SR)
    # after the 10 ms fade-in it is the file from 1.5 s on, exactly
    assert np.array_equal(out[500:], src[start + 500:start + len(out)])
    player.seek(99.0)
    manual.advance(0.5)
    player.sync()
    assert player.state == "stopped"


def test_pause_holds_the_position_and_fades(tmp_path, make_player, manual):
    path = write_audio(tmp_path / "n.wav", noise(2.0, seed=6), SR)
    player = make_player(manual)
    player.queue.set_tracks([track(path)])
    player.play()
    manual.advance(0.3)
    player.pause()
    assert player.state == "paused"
    faded = manual.advance(0.2)
    assert 0 < faded <= SR * 0.010 + 2  # only the ~10 ms fade-out is output
    held = player.position
    assert held == pytest.approx(0.3 + faded / SR, abs=1e-4)
    out = manual.captured()
    fade = np.abs(out[-faded:]).max(axis=1) / np.maximum(np.abs(decoded(path)[int(0.3 * SR):int(0.3 * SR) + faded]).max(axis=1), 1e-6)
    assert fade[-1] < 0.01 and fade[0] > 0.95  # a ramp to silence, not a cut
    assert manual.advance(0.5) == 0
    time.sleep(0.05)
    assert player.position == held
    player.resume()
    manual.advance(0.25)
    assert player.position == pytest.approx(held + 0.25, abs=1e-3)


# -- resampling -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [48000, 22050])
def test_resamples_to_the_device_rate(tmp_path, make_player, rate):
    import soxr

    t = np.arange(int(1.0 * rate)) / rate
    data = (0.4 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)[:, None]
    path = write_audio(tmp_path / f"s{rate}.flac", data, rate)
    backend = NullBackend(realtime=False, capture=True, samplerate=44100)
    player = make_player(backend)
    events = Events(player)
    player.queue.set_tracks([track(path)])
    player.play()
    events.wait_stopped()
    out = backend.captured()
    src = decoded(path)
    assert abs(len(out) - len(src) * 44100 / rate) <= 2
    ref = soxr.resample(src, rate, 44100, quality="HQ")
    n = min(len(ref), len(out))
    assert np.allclose(out[:n, 0], ref[:n, 0], atol=1e-5) and np.array_equal(out[:, 0], out[:, 1])
    spectrum = np.abs(np.fft.rfft(out[:, 0] * np.hanning(len(out))))
    peak_hz = np.argmax(spectrum) * 44100 / len(out)
    assert peak_hz == pytest.approx(1000.0, abs=2.0)
    assert events.of("ended")[0].data["seconds_played"] == pytest.approx(1.0, abs=1e-3)


# -- repeat and shuffle -----------------------------------------------------------------------------------

def test_repeat_one_loops_gaplessly_then_off_finishes(tmp_path, make_player, manual):
    a = write_audio(tmp_path / "a.wav", noise(0.4, seed=7), SR)
    src = decoded(a)
    player = make_player(manual)
    events = Events(player)
    player.queue.set_tracks([track(a)])
    player.queue.repeat = "one"
    player.play()
    manual.advance(frames=len(src) * 3 + 1000)
    out = manual.captured()
    assert np.array_equal(out[:len(src) * 3], np.concatenate([src] * 3))
    player.queue.repeat = "off"
    manual.advance(2.0)
    player.sync()
    assert player.state == "stopped"
    assert events.titles("track") == ["a"] * 4
    assert len(manual.captured()) == len(src) * 4


def test_repeat_all_wraps_and_next_previous(tmp_path, make_player, manual):
    paths = [write_audio(tmp_path / f"{n}.wav", noise(0.3, seed=i), SR) for i, n in enumerate("abc")]
    player = make_player(manual)
    events = Events(player)
    player.queue.set_tracks([track(p) for p in paths])
    player.queue.repeat = "all"
    player.play()
    manual.advance(0.3 * 4 + 0.05)
    player.sync()
    assert events.titles("track") == ["a", "b", "c", "a", "b"]
    player.next()  # b -> c
    manual.advance(0.05)
    player.next()  # c -> a (wraps)
    manual.advance(0.05)
    player.previous()  # a -> c (wraps back; < 3 s in)
    manual.advance(0.05)
    player.sync()
    assert events.titles("track")[-3:] == ["c", "a", "c"]
    player.queue.repeat = "off"
    player.next()  # the last item: next stops
    player.sync()
    assert player.state == "stopped"


def test_shuffle_plays_each_item_once_in_a_new_order(tmp_path, make_player):
    paths = [write_audio(tmp_path / f"t{i}.wav", noise(0.15, seed=i), SR) for i in range(6)]
    player = make_player(seed=11)
    events = Events(player)
    player.queue.set_tracks([track(p) for p in paths])
    player.queue.shuffle = True
    upcoming = [t.title for t in player.queue.upcoming()]
    player.play()
    events.wait_stopped()
    played = events.titles("track")
    assert sorted(played) == [f"t{i}" for i in range(6)]
    assert played[0] == "t0"  # the current item stays first when shuffle is switched on
    assert played[1:] == upcoming
    assert played != [f"t{i}" for i in range(6)]
    assert [t.title for t in player.queue.items] == [f"t{i}" for i in range(6)]  # items do not move


# -- queue edits while the next track is already decoded (still gapless) --------------------------------

def _wait_buffered(player, frames, timeout=5.0):
    rend = player._renderer
    deadline = time.monotonic() + timeout
    while rend.w - rend.r < frames and time.monotonic() < deadline:
        time.sleep(0.002)
    assert rend.w - rend.r >= frames


def test_play_next_and_remove_after_the_next_track_was_decoded(tmp_path, make_player, manual):
    a, b, c, d = (write_audio(tmp_path / f"{n}.wav", noise(0.5, seed=i), SR) for i, n in enumerate("abcd"))
    player = make_player(manual)
    events = Events(player)
    player.queue.set_tracks([track(a), track(b), track(c)])
    player.play()
    manual.advance(0.2)
    _wait_buffered(player, int(0.9 * SR))  # the ring already holds b and some of c
    player.queue.insert_next(track(d))  # now d must follow a, sample-exactly
    player.queue.remove(2)  # and b is gone (index 2 after the insert)
    manual.advance(3.0)
    player.sync()
    out = manual.captured()
    ref = np.concatenate([decoded(a), decoded(d), decoded(c)])
    assert len(out) == len(ref) and np.array_equal(out, ref)
    assert events.titles("track") == ["a", "d", "c"]


def test_removing_the_playing_item_moves_on(tmp_path, make_player, manual):
    a, b = (write_audio(tmp_path / f"{n}.wav", noise(1.0, seed=i), SR) for i, n in enumerate("ab"))
    player = make_player(manual)
    events = Events(player)
    player.queue.set_tracks([track(a), track(b)])
    player.play()
    manual.advance(0.3)
    player.queue.remove(0)
    manual.advance(0.3)
    player.sync()
    assert events.titles("track") == ["a", "b"]
    assert player.queue.current_index == 0 and player.current_track.title == "b"


# -- volume -----------------------------------------------------------------------------------------------

def test_volume_changes_ramp_and_mute_silences(tmp_path, make_player, manual):
    path = write_audio(tmp_path / "n.wav", noise(2.0, seed=8), SR)
    src = decoded(path)
    player = make_player(manual)
    player.queue.set_tracks([track(path)])
    player.play()
    manual.advance(0.2)
    player.set_volume(0.5)
    manual.advance(0.2)
    out = manual.captured()
    seg = slice(int(0.2 * SR) - 10, int(0.4 * SR))
    ok = np.abs(src[seg, 0]) > 0.05
    gain = out[seg, 0][ok] / src[seg, 0][ok]
    assert gain[0] == pytest.approx(1.0, abs=1e-4) and gain[-1] == pytest.approx(0.125, abs=1e-4)
    assert np.all(np.diff(gain) <= 1e-4)  # monotonic ramp …
    steps = np.diff(gain) / np.maximum(np.diff(np.flatnonzero(ok)), 1)
    assert np.abs(steps).max() < 0.01  # … with no jump (a 10 ms ramp moves < 0.0023 per frame)
    player.set_muted(True)
    manual.advance(0.1)
    assert player.muted and np.abs(manual.captured()[-int(0.05 * SR):]).max() == 0.0
    assert player.volume == 0.5


# -- bad input --------------------------------------------------------------------------------------------

def _truncated_flac(path, seed=9) -> os.PathLike:
    write_audio(path, noise(3.0, seed=seed), SR)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # decodes ~1.4 s, then libsndfile fails
    return path


def test_bad_files_in_the_middle_are_skipped_with_reasons(tmp_path, make_player):
    a = write_audio(tmp_path / "a.wav", noise(0.5, seed=1), SR)
    broken = _truncated_flac(tmp_path / "broken.flac")
    gone = write_audio(tmp_path / "gone.wav", noise(0.2), SR)
    os.remove(gone)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(os.urandom(5000))
    hollow = write_audio(tmp_path / "hollow.flac", noise(2.0, seed=3), SR)
    hollow.write_bytes(hollow.read_bytes()[:200])  # the header, no audio frames
    b = write_audio(tmp_path / "b.wav", noise(0.5, seed=2), SR)
    backend = NullBackend(realtime=False, capture=True)
    player = make_player(backend)
    events = Events(player)
    player.queue.set_tracks([track(p) for p in (a, broken, gone, junk, hollow, b)])
    player.play()
    assert events.wait_stopped().data["reason"] == "end of queue"
    skipped = {e.track.title: e.data["reason"] for e in events.of("skipped")}
    assert list(skipped) == ["gone", "junk", "hollow"]
    assert skipped["gone"] == "the file is gone (moved or deleted)"
    assert skipped["junk"] == "not an audio file FFmpeg or libsndfile can read"
    assert skipped["hollow"] == "damaged: no decodable audio"
    # a file that stops early plays what it has, with a warning, and is not an error
    assert events.titles("track") == ["a", "broken", "b"]
    ended = {e.track.title: e.data for e in events.of("ended")}
    assert list(ended) == ["a", "broken", "b"]
    assert ended["broken"]["warning"] == "the file stops at 0:01, its header announced 0:03"
    assert "warning" not in ended["a"]
    assert not events.of("error")
    out, ra, rb = backend.captured(), decoded(a), decoded(b)
    assert np.array_equal(out[:len(ra)], ra) and np.array_equal(out[-len(rb):], rb)
    assert 1.0 * SR < len(out) - len(ra) - len(rb) < 1.6 * SR  # the part of broken.flac that decoded


@pytest.mark.parametrize("repeat", ["off", "all", "one"])
def test_an_all_broken_queue_stops_with_an_error(tmp_path, make_player, repeat):
    gone = tmp_path / "gone.wav"
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"OggS" + os.urandom(3000))
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    player = make_player()
    events = Events(player)
    player.queue.set_tracks([track(gone), track(junk), track(empty)])
    player.queue.repeat = repeat
    player.play()
    stopped = events.wait_stopped()
    assert "none of the 3 tracks" in stopped.data["reason"]
    assert [e.data["message"] for e in events.of("error")] == [stopped.data["reason"]]
    time.sleep(0.1)
    assert len(events.of("skipped")) == 3  # each reported once: no endless loop
    assert player.state == "stopped"


def test_a_single_broken_track_on_repeat_one_stops(tmp_path, make_player):
    player = make_player()
    events = Events(player)
    player.queue.set_tracks([track(tmp_path / "nope.mp3")])
    player.queue.repeat = "one"
    player.play()
    stopped = events.wait_stopped()
    assert "could not be played" in stopped.data["reason"] and "gone" in stopped.data["reason"]


# -- history ----------------------------------------------------------------------------------------------

def test_plays_are_recorded_with_the_skip_rule(tmp_path, library, make_player, manual):
    from player.library.scan import scan

    music = tmp_path / "music"
    write_audio(music / "a.wav", noise(4.0, seed=1), SR, tags={"title": "A"})
    write_audio(music / "b.wav", noise(1.0, seed=2), SR, tags={"title": "B"})
    write_audio(music / "c.wav", noise(1.0, seed=3), SR, tags={"title": "C"})
    scan(library, [str(music)], workers=1)
    user = library.add_user("ann")
    a, b, c = sorted(library.tracks(), key=lambda t: t.title)
    loose = write_audio(tmp_path / "loose.wav", noise(0.3, seed=4), SR)
    player = make_player(manual, library=library, user_id=user.id)
    player.queue.set_tracks([a, b, c, track(loose)])
    t0 = time.time()
    player.play()
    manual.advance(0.5)
    player.next()  # a: left after 0.5 s of 4 s -> skipped
    manual.advance(1.0 + 0.010)  # b plays to its end (plus the 10 ms fade-out of a)
    manual.advance(0.6)
    player.stop()  # c: 0.6 s of 1 s, more than half -> not skipped
    manual.advance(0.1)
    player.sync()
    rows = sorted(library.plays(user.id), key=lambda r: r["id"])
    # seconds played include the 10 ms fade-out when the listener leaves a track
    got = [(r["track_id"], r["seconds_played"], r["skipped"]) for r in rows]
    assert [(t, s) for t, _, s in got] == [(a.id, 1), (b.id, 0), (c.id, 0)]
    assert [p for _, p, _ in got] == [pytest.approx(x, abs=1e-3) for x in (0.51, 1.0, 0.61)]
    assert all(t0 - 1 <= r["started_at"] <= time.time() for r in rows)
    player.play(3)  # a file outside the library: played, not recorded
    manual.advance(1.0)
    player.sync()
    assert len(library.plays(user.id)) == 3


def test_skip_rule():
    assert is_skip(5, 200) and is_skip(29.9, 200)
    assert not is_skip(30, 200) and not is_skip(31, None)
    assert not is_skip(10, 18) and is_skip(8, 18)  # half of a short track counts as listened
    assert not is_skip(1, 200, ended_naturally=True)
    assert is_skip(0.5, None)


# -- refill, backends, CLI-facing bits --------------------------------------------------------------------

def test_refill_is_asked_when_the_queue_runs_low(tmp_path, make_player):
    paths = [write_audio(tmp_path / f"r{i}.wav", noise(0.2, seed=i), SR) for i in range(4)]
    player = make_player()
    events = Events(player)
    asked = []

    def refill(queue):
        asked.append(len(queue))
        return [track(paths[len(queue)])] if len(queue) < 4 else []

    player.queue.refill = refill
    player.queue.low_water = 1
    player.queue.set_tracks([track(paths[0]), track(paths[1])])
    player.play()
    events.wait_stopped()
    assert events.titles("track") == ["r0", "r1", "r2", "r3"]
    assert asked[:2] == [2, 3]


def test_realtime_null_output_keeps_real_time(tmp_path, make_player):
    path = write_audio(tmp_path / "rt.wav", noise(0.4, seed=1), SR)
    player = make_player(NullBackend(realtime=True))
    events = Events(player)
    player.queue.set_tracks([track(path)])
    t0 = time.monotonic()
    player.play()
    events.wait_stopped()
    assert time.monotonic() - t0 >= 0.35  # a null sound card cannot play faster than real time
    assert events.of("ended")[0].data["seconds_played"] == pytest.approx(0.4, abs=1e-3)


def test_auto_backend_without_a_device_falls_back_with_a_reason(make_player):
    player = make_player("auto")
    if isinstance(player.backend, NullBackend):
        assert player.backend_message and "playing silently" in player.backend_message
        with pytest.raises(AudioUnavailable):
            make_backend("sounddevice")
    else:  # a machine with a sound card
        assert player.backend_message is None
    with pytest.raises(ValueError, match="unknown audio backend"):
        make_backend("speakers")


def test_empty_queue_and_bad_index(make_player):
    player = make_player()
    events = Events(player)
    player.play()
    events.wait(lambda evs: any(e.kind == "error" for e in evs))
    assert player.state == "stopped" and player.position == 0.0 and player.current_track is None
    with pytest.raises(IndexError, match="out of range"):
        player.play(3)


def test_a_failing_refill_is_reported_and_playback_goes_on(tmp_path, make_player):
    a = write_audio(tmp_path / "a.wav", noise(0.2, seed=1), SR)
    player = make_player()
    events = Events(player)

    def refill(queue):
        raise RuntimeError("recommender offline")

    player.queue.refill = refill
    player.queue.set_tracks([track(a)])
    player.play()
    assert events.wait_stopped().data["reason"] == "end of queue"
    assert events.titles("ended") == ["a"]
    assert any("recommender offline" in e.data["message"] for e in events.of("error"))


SOUNDDEVICE_SCRIPT = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from player.audio import FileTrack, Player, SoundDeviceBackend
player = Player(backend="sounddevice")
assert isinstance(player.backend, SoundDeviceBackend) and player.backend_message is None
seen = []
player.subscribe(lambda e: seen.append((e.kind, getattr(e.track, "title", None), e.data.get("state"))))
player.queue.set_tracks([FileTrack.from_path(p) for p in sys.argv[2:]])
player.play()
t0 = time.monotonic()
while player.state != "stopped" and time.monotonic() - t0 < 20:
    time.sleep(0.01)
player.close()
print([s for s in seen if s[0] in ("track", "ended", "skipped", "error")])
print(player.state, player.backend.error)
"""


def test_the_sounddevice_backend_through_portaudio(tmp_path):
    """The real OutputStream callback path, on ALSA's null PCM (no sound card needed; it consumes
    as fast as it can, so only the flow of events is checked, not the samples)."""
    import subprocess
    import sys
    from pathlib import Path

    conf = tmp_path / "asound.conf"
    conf.write_text("pcm.!default {\n    type null\n}\n")
    a = write_audio(tmp_path / "a.wav", noise(0.5, seed=1), SR)
    b = write_audio(tmp_path / "b.ogg", noise(0.5, seed=2), 48000)
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, ALSA_CONFIG_PATH=str(conf))
    probe = subprocess.run([sys.executable, "-c", "import sounddevice as sd; sd.query_devices(kind='output')"],
                           env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"PortAudio/ALSA null device not available here: {probe.stderr.strip()[-200:]}")
    proc = subprocess.run([sys.executable, "-c", SOUNDDEVICE_SCRIPT, root, str(a), str(b)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == str([("track", "a", None), ("ended", "a", None), ("track", "b", None), ("ended", "b", None)])
    assert lines[1] == "stopped None"


def test_a_long_repeat_one_run_stays_exact_and_bounded(tmp_path, make_player, manual):
    a = write_audio(tmp_path / "tick.wav", noise(0.05, seed=3), SR)
    src = decoded(a)
    player = make_player(manual)
    events = Events(player)
    player.queue.set_tracks([track(a)])
    player.queue.repeat = "one"
    player.play()
    for _ in range(20):
        manual.advance(frames=len(src) * 6)
        player.poll()
    player.sync()
    assert np.array_equal(manual.captured(), np.tile(src, (120, 1)))
    assert len(events.of("track")) == 120 and len(events.of("ended")) == 119
    assert len(player._decoder.segments(player._renderer.gen)) < 64  # played segments are let go


def test_preload_imports_what_a_first_song_would_import(tmp_path):
    """After ``preload`` (the window runs it in the worker that opens the output), playing a first song
    imports no module in the decoder thread: imports there hold the interpreter lock for ~100 ms."""
    import subprocess
    import sys

    path = tmp_path / "a.flac"
    write_audio(path, seconds=1.0)
    script = (
        "import sys, time\n"
        "from player.audio import FileTrack, NullBackend, Player, preload\n"
        "preload()\n"
        "before = set(sys.modules)\n"
        "p = Player(library=None, user_id=None, backend=NullBackend(realtime=False))\n"
        f"p.queue.set_tracks([FileTrack.from_path({str(path)!r})])\n"
        "p.play()\n"
        "t = time.time()\n"
        "time.sleep(0.05)\n"
        "while p.state != 'stopped' and time.time() - t < 20: time.sleep(0.01)\n"
        "assert p.state == 'stopped'\n"
        "p.close()\n"
        "print(sorted(set(sys.modules) - before))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
