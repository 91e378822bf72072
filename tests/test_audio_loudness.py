"""Loudness (player/audio/loudness.py) against EBU Tech 3341 test signals generated here, the gain rule,
and ReplayGain read from every tag format mutagen writes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audiogen import write_audio
from player.audio.loudness import (TrackLoudness, album_loudness, gain_db, gated_loudness, k_weighting,
                                   measure, measure_array, replaygain_from_tags)


def sine(dbfs: float, seconds: float, sr: int = 48000, freq: float = 1000.0, channels: int = 2) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[:, None], channels, axis=1)


def sequence(*parts, sr: int = 48000) -> np.ndarray:
    return np.concatenate([sine(db, s, sr) for db, s in parts])


def test_k_weighting_is_the_recommendations_filter_at_48k():
    (sb, sa), (hb, ha) = k_weighting(48000)
    np.testing.assert_allclose(sb, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-10)
    np.testing.assert_allclose(sa, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-10)
    np.testing.assert_allclose(hb, [1.0, -2.0, 1.0])
    np.testing.assert_allclose(ha, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-10)


@pytest.mark.parametrize("sr", [48000, 44100, 32000, 96000])
@pytest.mark.parametrize("dbfs", [-20.0, -23.0])
def test_tech3341_cases_1_and_2_a_1khz_sine(sr, dbfs):
    assert measure_array(sine(dbfs, 20.0, sr), sr).integrated == pytest.approx(dbfs, abs=0.1)


def test_tech3341_case_3_relative_gate():
    x = sequence((-36, 10), (-23, 60), (-36, 10))
    assert measure_array(x, 48000).integrated == pytest.approx(-23.0, abs=0.1)


def test_tech3341_case_4_absolute_and_relative_gates():
    x = sequence((-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10))
    assert measure_array(x, 48000).integrated == pytest.approx(-23.0, abs=0.1)


def test_tech3341_case_5_levels_within_the_gate():
    x = sequence((-26, 20), (-20, 20.1), (-26, 20))
    assert measure_array(x, 48000).integrated == pytest.approx(-23.0, abs=0.1)


def test_without_the_gates_those_cases_would_read_differently():
    """The gates matter: the ungated mean of case 4 is well below -23 (so the test above can fail)."""
    x = sequence((-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10))
    m = measure_array(x, 48000)
    assert 800 <= len(m.blocks) <= 803  # the -72 dBFS stretches are gone (absolute gate)
    ungated = -0.691 + 10 * math.log10(np.mean(m.blocks))
    assert ungated < -23.5


def test_channel_weights_surrounds_count_more_lfe_not_at_all():
    sr = 48000
    one = sine(-20, 10, sr, channels=1)[:, 0]
    five_one = np.zeros((len(one), 6))
    five_one[:, 4] = one  # the left surround (WAV order: FL FR FC LFE BL BR)
    assert measure_array(five_one, sr).integrated == pytest.approx(-20 + 10 * math.log10(1.41) - 3.01, abs=0.1)
    lfe = np.zeros_like(five_one)
    lfe[:, 3] = one
    assert measure_array(lfe, sr).integrated == -math.inf


def test_true_peak_finds_the_peak_between_samples():
    sr = 48000
    n = np.arange(2 * sr)
    x = (0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4))[:, None]  # every sample at 0.354, the wave at 0.5
    m = measure_array(x, sr)
    assert 20 * math.log10(m.sample_peak) == pytest.approx(-9.03, abs=0.01)
    assert m.true_peak_db == pytest.approx(-6.02, abs=0.2)
    assert measure_array(sine(-6.0, 2.0, sr), sr).true_peak_db == pytest.approx(-6.0, abs=0.1)


def test_album_loudness_combines_tracks_exactly(tmp_path):
    sr = 48000
    parts = [sine(-30, 8, sr), sine(-20, 12, sr), sine(-24, 10, sr)]
    tracks = [measure_array(p, sr) for p in parts]
    album = album_loudness(tracks)
    assert album == gated_loudness(np.concatenate([t.blocks for t in tracks]))
    whole = measure_array(np.concatenate(parts), sr).integrated
    assert album == pytest.approx(whole, abs=0.05)  # as if the album were one programme
    assert min(t.integrated for t in tracks) < album < max(t.integrated for t in tracks)
    stored = [TrackLoudness.blocks_from_bytes(t.to_bytes()) for t in tracks]  # what a library would keep
    assert album_loudness(stored) == album


def test_measure_a_file_through_the_reader(tmp_path):
    x = sine(-23, 6.0, 44100).astype(np.float32)
    path = write_audio(tmp_path / "s.m4a", x, 44100)
    m = measure(path)
    assert m.integrated == pytest.approx(-23.0, abs=0.15)  # AAC at 192 kb/s
    assert m.duration == pytest.approx(6.0, abs=1e-3) and m.samplerate == 44100


# -- the gain rule -------------------------------------------------------------------------------------

def test_gain_from_loudness_preamp_and_clipping():
    assert gain_db({"track_loudness": -12.0}, "track") == pytest.approx(-6.0)  # -18 - (-12)
    assert gain_db({"track_loudness": -30.0}, "track", preamp_db=2.0) == pytest.approx(14.0)
    # +14 dB would push a 0.5 peak to 2.5: limited to peak x gain = 1
    limited = gain_db({"track_loudness": -30.0, "track_peak": 0.5}, "track", preamp_db=2.0)
    assert limited == pytest.approx(20 * math.log10(2.0))
    assert gain_db({"track_loudness": -30.0, "track_peak": 0.5}, "track", prevent_clipping=False) == 12.0
    values = {"track_gain": -3.0, "album_gain": -5.0, "album_peak": 0.9}
    assert gain_db(values, "album") == -5.0 and gain_db(values, "track") == -3.0
    assert gain_db({"track_gain": -3.0}, "album") == -3.0  # no album value: the track's
    assert gain_db({}, "track") is None and gain_db(None, "album") is None


# -- ReplayGain tags -----------------------------------------------------------------------------------

RG = {"track_gain": -6.5, "track_peak": 0.98, "album_gain": -7.25, "album_peak": 0.995}


def _vorbis(path):
    import mutagen

    f = mutagen.File(path)
    f["REPLAYGAIN_TRACK_GAIN"] = "-6.50 dB"
    f["replaygain_track_peak"] = "0.980000"
    f["REPLAYGAIN_ALBUM_GAIN"] = "-7,25 dB"  # a comma, as some taggers write
    f["REPLAYGAIN_ALBUM_PEAK"] = "0.995"
    f.save()


def _id3(path):
    from mutagen.id3 import ID3, TXXX

    tags = ID3()
    for key, value in (("REPLAYGAIN_TRACK_GAIN", "-6.50 dB"), ("replaygain_track_peak", "0.98"),
                       ("REPLAYGAIN_ALBUM_GAIN", "-7.25 dB"), ("REPLAYGAIN_ALBUM_PEAK", "0.995")):
        tags.add(TXXX(encoding=3, desc=key, text=[value]))
    tags.save(path)


def _mp4(path):
    from mutagen.mp4 import MP4, MP4FreeForm

    f = MP4(path)
    for key, value in (("replaygain_track_gain", b"-6.50 dB"), ("replaygain_track_peak", b"0.980000"),
                       ("replaygain_album_gain", b"-7.25 dB"), ("replaygain_album_peak", b"0.995000")):
        f[f"----:com.apple.iTunes:{key}"] = [MP4FreeForm(value)]
    f.save()


def _ape(path):
    from mutagen.apev2 import APEv2

    tags = APEv2()
    tags["REPLAYGAIN_TRACK_GAIN"] = "-6.50 dB"
    tags["Replaygain_Track_Peak"] = "0.98"
    tags["REPLAYGAIN_ALBUM_GAIN"] = "-7.25 dB"
    tags["REPLAYGAIN_ALBUM_PEAK"] = "0.995"
    tags.save(path)


@pytest.mark.parametrize("ext,writer", [("flac", _vorbis), ("ogg", _vorbis), ("mp3", _id3), ("m4a", _mp4),
                                        ("wv", _ape)])
def test_replaygain_from_every_tag_format(tmp_path, ext, writer):
    path = write_audio(tmp_path / f"t.{ext}", sine(-20, 0.5, 44100).astype(np.float32), 44100)
    assert replaygain_from_tags(path) == {}
    writer(str(path))
    assert replaygain_from_tags(path) == pytest.approx(RG)


def test_opus_r128_gains_are_relative_to_minus_23(tmp_path):
    import mutagen

    path = write_audio(tmp_path / "t.opus", sine(-20, 0.5, 48000).astype(np.float32), 48000)
    f = mutagen.File(path)
    f["R128_TRACK_GAIN"] = str(-6 * 256)  # Q7.8: -6 dB to reach -23 LUFS
    f["R128_ALBUM_GAIN"] = "-1000"
    f["REPLAYGAIN_TRACK_GAIN"] = "+3.00 dB"  # R128 wins in an Opus file
    f.save()
    got = replaygain_from_tags(path)
    assert got["track_gain"] == pytest.approx(-6.0 + 5.0)  # the -18 LUFS reference is 5 dB above
    assert got["album_gain"] == pytest.approx(-1000 / 256 + 5.0)


def test_bad_replaygain_values_are_left_out(tmp_path):
    import mutagen

    path = write_audio(tmp_path / "t.flac", sine(-20, 0.5, 44100).astype(np.float32), 44100)
    f = mutagen.File(path)
    f["REPLAYGAIN_TRACK_GAIN"] = "loud"
    f["REPLAYGAIN_TRACK_PEAK"] = "-1"
    f["REPLAYGAIN_ALBUM_GAIN"] = "+2.5 dB"
    f.save()
    assert replaygain_from_tags(path) == {"album_gain": 2.5}
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + bytes(50))  # a broken tag header
    assert replaygain_from_tags(junk) == {}
    assert replaygain_from_tags(tmp_path / "missing.flac") == {}
