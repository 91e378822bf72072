"""The one reader (player/audio/reader.py): every format by content, honest lengths, exact seeks, names
that are not UTF-8, refused FIFOs, and errors in words. Real files: soundfile and FFmpeg (PyAV) encoders."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from audiogen import encode, write_audio
from player.audio.errors import AudioError, translate_errors
from player.audio.reader import (FFMPEG, SOUNDFILE, Stream, open_audio, probe_audio, read_audio,
                                 read_excerpt)

SR = 44100
N = 2 * SR + 123  # not a multiple of any codec's frame size


def music(frames: int = N, sr: int = SR, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Partials with a slow envelope plus a little noise: coded by every codec without noise substitution."""
    t = np.arange(frames) / sr
    x = sum(0.08 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate([220, 330, 495, 740, 1110]))
    x = x * (0.7 + 0.3 * np.sin(2 * np.pi * 0.5 * t)) + 0.003 * np.random.default_rng(seed).standard_normal(frames)
    return np.stack([x * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


# ext, codec (None: by extension), format, codec name, backend, exact length after decoding
FORMATS = [
    ("wav", None, "wav", "pcm_16", SOUNDFILE, True),
    ("flac", None, "flac", "flac", SOUNDFILE, True),
    ("aiff", None, "aiff", "pcm_16", SOUNDFILE, True),
    ("ogg", None, "ogg", "vorbis", FFMPEG, True),
    ("mp3", None, "mp3", "mp3float", FFMPEG, True),  # libsndfile's LAME writes a LAME/Xing header
    ("mp3", "libmp3lame", "mp3", "mp3float", FFMPEG, True),
    ("m4a", None, "m4a", "aac", FFMPEG, True),  # edit list + the last frame cut to its packet
    ("m4a", "alac", "alac", "alac", FFMPEG, True),
    ("wv", None, "wv", "wavpack", FFMPEG, True),
    ("tta", None, "tta", "tta", FFMPEG, True),
    ("mka", None, "mka", "opus", FFMPEG, True),
    ("webm", None, "webm", "opus", FFMPEG, True),
    ("wma", None, "wma", "wmav2", FFMPEG, False),  # no gapless information in ASF
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    made = {}
    for ext, codec, fmt, _, _, _ in FORMATS:
        rate = 48000 if ext in ("mka", "webm") else SR
        name = f"{fmt}-{codec or 'default'}.{ext}"
        made[(ext, codec)] = (write_audio(folder / name, music(sr=rate), rate, codec=codec), rate)
    return made


@pytest.mark.parametrize("ext,codec,fmt,codec_name,backend,exact", FORMATS)
def test_every_format_opens_by_content_with_its_real_length(files, ext, codec, fmt, codec_name, backend, exact):
    path, rate = files[(ext, codec)]
    with open_audio(path) as f:
        info = f.info
        assert (info.format, info.codec, info.backend) == (fmt, codec_name, backend)
        assert (info.samplerate, info.channels) == (rate, 2)
        assert info.channel_names == ("FL", "FR")
        audio = np.concatenate(list(f.blocks()))
        after = f.info
    assert audio.dtype == np.float32 and audio.shape[1] == 2
    assert after.exact and after.frames == len(audio) and after.warning is None
    if exact:  # encoder delay and padding removed: what went in comes out, to the frame
        assert len(audio) == N
    else:
        assert abs(len(audio) - N) < 4096
    ref = music(sr=rate)[:len(audio)]
    lag = _best_lag(audio[:, 0], ref[:, 0])
    assert lag == 0 or not exact  # not shifted either


def _best_lag(x: np.ndarray, ref: np.ndarray, span: int = 1200) -> int:
    mid = len(ref) // 2
    seg = ref[mid:mid + 8192]
    scores = [np.dot(x[mid + k:mid + k + 8192], seg) for k in range(-span, span + 1)]
    return int(np.argmax(scores)) - span


@pytest.mark.parametrize("ext,codec,tol", [("wav", None, 0), ("flac", None, 0), ("aiff", None, 0),
                                           ("m4a", "alac", 0), ("wv", None, 0), ("tta", None, 0),
                                           ("ogg", None, 1e-6), ("mp3", "libmp3lame", 1e-6),
                                           ("m4a", None, None), ("mka", None, "ms"), ("webm", None, "ms")])
def test_seek_lands_on_the_frame(files, ext, codec, tol):
    path, rate = files[(ext, codec)]
    with open_audio(path) as f:
        whole = np.concatenate(list(f.blocks()))
        for target in (int(1.2345 * rate), 777, 0):
            assert f.seek(target) == target
            got = np.array(f.read(4096))
            want = whole[target:target + 4096]
            if tol is None:  # AAC fills noisy bands with a pseudo-random generator whose state a seek resets
                assert np.sqrt(np.mean((got - want) ** 2)) < 0.05 * np.sqrt(np.mean(want ** 2))
            elif tol == "ms":  # Matroska's timestamps are milliseconds: within one
                assert abs(_lag_of(got[:, 0], whole[:, 0], target)) <= rate // 1000
            else:
                np.testing.assert_allclose(got, want, atol=tol, rtol=0)


def _lag_of(block: np.ndarray, whole: np.ndarray, at: int, span: int = 400) -> int:
    lo = max(0, at - span)
    scores = [np.dot(whole[k:k + len(block)], block) for k in range(lo, at + span)]
    return lo + int(np.argmax(scores)) - at


def test_content_wins_over_the_name(tmp_path):
    flac_named_mp3 = write_audio(tmp_path / "x.flac", music(), SR)
    os.rename(flac_named_mp3, tmp_path / "x.mp3")
    m4a_named_ogg = write_audio(tmp_path / "y.m4a", music(), SR)
    os.rename(m4a_named_ogg, tmp_path / "y.ogg")
    assert probe_audio(tmp_path / "x.mp3").format == "flac"
    assert probe_audio(tmp_path / "y.ogg").format == "m4a"


@pytest.mark.parametrize("ext,codec", [("flac", None), ("m4a", None), ("wav", None), ("ogg", None)])
def test_names_that_are_not_utf8_open_as_bytes_and_as_str(tmp_path, ext, codec):
    made = write_audio(tmp_path / f"plain.{ext}", music(SR), SR, codec=codec)
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff." + ext.encode())
    os.rename(made, raw)
    for path in (raw, os.fsdecode(raw)):  # bytes, and the surrogate-escaped str the library stores
        audio, info = read_audio(path)
        assert len(audio) == SR and info.frames == SR
        stream = Stream(path, 48000, 2)
        assert stream.read().shape[1] == 2
        stream.close()


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.mp3"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            open_audio(fifo)
        except AudioError as exc:
            outcome.append(str(exc))

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(10)
    assert outcome == ["it is a named pipe (FIFO), not an audio file"]


def test_bad_input_is_one_line_in_words(tmp_path):
    junk = tmp_path / "junk.flac"
    junk.write_bytes(b"fLaC" + os.urandom(3000))
    random = tmp_path / "random.m4a"
    random.write_bytes(os.urandom(5000))
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    hollow = write_audio(tmp_path / "hollow.flac", music(), SR)
    hollow.write_bytes(hollow.read_bytes()[:120])  # a header, no frames
    text = tmp_path / "notes.mp3"
    text.write_text("not music at all\n" * 50)
    cases = {
        junk: "damaged: no decodable audio",  # a FLAC signature, then garbage
        random: "not an audio file FFmpeg or libsndfile can read",
        text: "not an audio file FFmpeg or libsndfile can read",
        empty: "the file is empty",
        hollow: "damaged: no decodable audio",
        tmp_path / "gone.wav": "the file is gone (moved or deleted)",
        tmp_path: "it is a folder, not an audio file",
    }
    for path, message in cases.items():
        with pytest.raises(AudioError) as err:
            probe_audio(path)
        assert str(err.value) == message, path


def test_a_signature_then_garbage_is_damaged_whatever_the_garbage(tmp_path):
    """libsndfile answers garbage behind a FLAC or WAV signature in several ways ("unimplemented
    format", "malformed", "unknown error"); the listener reads the same words every time."""
    rng = np.random.default_rng(7)
    allowed = {"damaged: no decodable audio", "not an audio file FFmpeg or libsndfile can read"}
    for i in range(40):
        head = (b"fLaC", b"RIFF\x00\x10\x00\x00WAVEfmt ", b"OggS")[i % 3]
        path = tmp_path / f"junk{i}.{('flac', 'wav', 'ogg')[i % 3]}"
        path.write_bytes(head + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
        try:
            probe_audio(path)
        except AudioError as exc:
            assert str(exc) in allowed or str(exc).startswith("damaged"), (path.name, str(exc))


def test_library_exceptions_are_translated_in_one_place():
    import av
    import soundfile as sf

    with pytest.raises(AudioError) as err, translate_errors("x.flac", during=83.2):
        raise sf.LibsndfileError(-1, "Error : unknown error in flac decoder")  # libsndfile's words
    assert str(err.value) == "decoding failed at 1:23: damaged data"
    with pytest.raises(AudioError) as err, translate_errors("x.m4a", opening=True):
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input", "x.m4a")
    assert str(err.value) == "not an audio file FFmpeg or libsndfile can read"
    with pytest.raises(AudioError) as err, translate_errors(b"/no/such/\xff.wav", opening=True):
        raise FileNotFoundError(2, "No such file or directory")
    assert str(err.value) == "the file is gone (moved or deleted)"
    for text in (str(err.value),):
        assert "b'" not in text and "Error :" not in text and "Traceback" not in text


# -- honest lengths ----------------------------------------------------------------------------------------

def _lame(path, seconds: float, rate: int = SR):
    return encode(path, music(int(seconds * rate), rate), rate, "libmp3lame", "mp3")


def test_a_truncated_mp3_plays_what_it_has_with_a_warning(tmp_path):
    full = _lame(tmp_path / "t.mp3", 5.0)
    data = full.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[:int(len(data) * 0.6)])  # the LAME header still announces 5 s
    info = probe_audio(cut)
    audio, after = read_audio(cut)
    assert info.frames == after.frames == len(audio)  # the length is what decodes
    assert 2.8 < info.duration < 3.2
    assert info.warning == after.warning == "the file stops at 0:03, its header announced 0:05"
    ex = read_excerpt(cut, 1.0, "centre")  # the centre of what is there, not of what the header said
    assert ex.start == pytest.approx((info.duration - 1.0) / 2, abs=0.05) and len(ex.audio) == SR


def test_a_header_a_fraction_of_a_second_long_is_no_error(tmp_path):
    """Real VBR/Xing files often announce slightly more than decodes (trailing tags, a clipped last frame)."""
    full = _lame(tmp_path / "t.mp3", 4.0)
    data = full.read_bytes()
    short = tmp_path / "short.mp3"
    short.write_bytes(data[:len(data) - 3000] + b"TAG" + bytes(125))  # ~0.15 s less, then an ID3v1 tag
    info = probe_audio(short)
    audio, _ = read_audio(short)
    assert info.warning is None
    assert info.frames is not None and abs(info.frames - len(audio)) < 0.5 * SR
    assert len(audio) > 3.6 * SR


def test_damage_in_the_middle_is_passed_over(tmp_path):
    full = _lame(tmp_path / "t.mp3", 6.0)
    data = bytearray(full.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4000] = np.random.default_rng(1).bytes(4000)
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(bytes(data))
    audio, info = read_audio(bad)
    assert 5.0 * SR < len(audio) <= 6.0 * SR + 1152
    assert info.exact and info.frames == len(audio)


def test_a_truncated_flac_goes_on_with_ffmpeg_then_warns(tmp_path):
    path = write_audio(tmp_path / "t.flac", music(6 * SR), SR)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    audio, info = read_audio(path)
    assert 2.5 * SR < len(audio) < 3.5 * SR
    assert info.frames == len(audio)
    assert info.warning == f"the file stops at 0:0{len(audio) // SR}, its header announced 0:06"


def test_the_whole_file_is_never_sized_from_its_header(tmp_path):
    """A WAV whose header claims far more data than the file holds reads what is there."""
    path = write_audio(tmp_path / "lie.wav", music(SR), SR)
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at:at + 4] = (0x7FFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    audio, info = read_audio(path)
    assert len(audio) == SR and info.frames == SR


# -- ranges, excerpts, streams ---------------------------------------------------------------------------

def test_read_ranges_mono_and_resampled(files):
    path, _ = files[("flac", None)]
    whole, _ = read_audio(path)
    part, info = read_audio(path, 0.5, 1.0)
    assert np.array_equal(part, whole[int(0.5 * SR):SR])
    mono, _ = read_audio(path, 0.5, 1.0, mono=True)
    np.testing.assert_allclose(mono, whole[int(0.5 * SR):SR].mean(axis=1), atol=1e-7)
    low, _ = read_audio(path, 0.5, 1.0, samplerate=22050, mono=True)
    assert abs(len(low) - 22050 // 2) <= 1 and low.ndim == 1


def test_excerpt_offsets(files):
    path, _ = files[("m4a", None)]
    ex = read_excerpt(path, 1.0, "centre", samplerate=22050)
    assert ex.samplerate == 22050 and ex.audio.ndim == 1 and abs(len(ex.audio) - 22050) <= 1
    assert ex.start == pytest.approx((N - SR) // 2 / SR, abs=1e-6) and ex.channels == 2
    assert ex.duration == pytest.approx(N / SR)
    assert read_excerpt(path, 1.0, "start").start == 0.0
    assert read_excerpt(path, 1.0, 99.0).start == pytest.approx((N - SR) / SR)  # clamped inside the file
    short = read_excerpt(path, 10.0)  # longer than the file: all of it
    assert len(short.audio) == N


def test_stream_resamples_and_maps_channels(files):
    path, _ = files[("ogg", None)]
    s = Stream(path, 48000, 1, start=1.0)
    blocks = []
    while (b := s.read()) is not None:
        blocks.append(np.array(b))
    out = np.concatenate(blocks)
    assert out.shape[1] == 1
    assert abs(len(out) - (N - SR) * 48000 / SR) <= 2
    assert s.offset == 1.0


# -- real music's Ogg pages, excerpts from the middle, mono reads ---------------------------------------

def drums(seconds: float, sr: int, seed: int = 3) -> np.ndarray:
    """A tone under noise bursts with sharp onsets: the transients make Vorbis switch to short blocks
    (and Opus to short frames), as real music does and a steady tone does not."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    x = 0.2 * np.sin(2 * np.pi * 220 * t * (1 + 0.1 * np.sin(2 * np.pi * 0.05 * t)))
    x += 0.3 * rng.standard_normal(n) * ((np.arange(n) % (sr // 2)) < sr // 20)
    y = 0.15 * np.sin(2 * np.pi * 330 * t) + 0.1 * x
    return np.stack([x, y], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def transient_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transients")
    return {  # Opus as libsndfile and as FFmpeg's libopus write it (real music's Ogg page layouts differ)
        "vorbis": write_audio(folder / "v.ogg", drums(40, SR), SR),
        "opus": write_audio(folder / "o.opus", drums(40, 48000), 48000),
        "libopus": write_audio(folder / "l.opus", drums(40, 48000), 48000, codec="libopus"),
    }


def test_vorbis_with_short_blocks_decodes_every_sample(transient_files):
    import soundfile as sf

    path = transient_files["vorbis"]
    whole, info = read_audio(path)
    assert info.backend == FFMPEG and info.codec == "vorbis"
    reference = sf.read(os.fsencode(path), dtype="float32")[0]  # libvorbis through libsndfile
    # FFmpeg's Ogg demuxer gives a packet after a long block the short block's length; cut to it, every
    # such frame lost 448 of its 576 samples (4-5 % of real music)
    assert len(whole) == len(reference) == 40 * SR
    np.testing.assert_allclose(whole, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["opus", "libopus", "vorbis"])
def test_an_excerpt_from_the_middle_is_the_audio_decoded_from_the_start(transient_files, kind):
    path = transient_files[kind]
    whole, info = read_audio(path, mono=True)  # decoded from the start, never seeking
    rate = info.samplerate
    for offset in (12.0, 21.37, 31.3):
        ex = read_excerpt(path, 5.0, offset)
        begin = int(round(offset * rate))
        assert ex.start == pytest.approx(offset, abs=1e-4) and len(ex.audio) == 5 * rate
        # to the sample (Vorbis too: FFmpeg's timestamp of a frame after a long block is 448 samples late)
        np.testing.assert_array_equal(ex.audio, whole[begin:begin + len(ex.audio)])


@pytest.mark.parametrize("kind", ["opus", "libopus", "vorbis"])
def test_excerpts_of_one_open_file_are_those_read_one_by_one(transient_files, kind):
    path = transient_files[kind]
    with open_audio(path) as f:
        centre = f.excerpt(20.0, "centre")
        later = f.excerpt(10.0, 28.5)
        earlier = f.excerpt(10.0, 2.0)  # backwards in the same file
    for got, (seconds, offset) in ((centre, (20.0, "centre")), (later, (10.0, 28.5)), (earlier, (10.0, 2.0))):
        alone = read_excerpt(path, seconds, offset)
        assert got.start == alone.start and got.duration == alone.duration
        np.testing.assert_array_equal(got.audio, alone.audio)


@pytest.mark.parametrize("kind", ["opus", "vorbis", "mp3", "m4a", "flac"])
def test_mono_reads_are_the_mean_of_the_channels_read_in_any_order(tmp_path, transient_files, kind):
    from player.audio.reader import mono_mix

    if kind in transient_files:
        path = transient_files[kind]
    else:
        path = write_audio(tmp_path / f"d.{kind}", drums(8, SR), SR, codec="libmp3lame" if kind == "mp3" else None)
    with open_audio(path) as f:  # (a file each: a seek resets AAC's noise generator)
        at = f.seek(f.samplerate * 3)
        channels = np.array(f.read(20000))
    with open_audio(path) as f:
        assert f.seek(at) == at
        # mono and all channels, switching in the middle of decoded frames
        parts = [f.read(1000, mono=True), mono_mix(f.read(5001)), f.read(777, mono=True), mono_mix(f.read(3000)),
                 f.read(20000 - 9778, mono=True)]
    assert all(p.ndim == 1 and p.dtype == np.float32 for p in parts[::2])
    np.testing.assert_array_equal(np.concatenate(parts), mono_mix(channels))
