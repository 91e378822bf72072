"""SourceReader's channel mapping: multichannel files are downmixed to the device by speaker position."""

from __future__ import annotations

import numpy as np
import pytest

from audiogen import write_audio
from player.audio.decoder import SourceReader, downmix_matrix

SR = 48000
# One sine per speaker, at frequencies that fall on exact FFT bins of a 1 s window.
FREQ = {"FL": 300, "FR": 500, "FC": 700, "LFE": 60, "BL": 900, "BR": 1100}
SMPTE = ("FL", "FR", "FC", "LFE", "BL", "BR")  # WAV / FLAC order
VORBIS = ("FL", "FC", "FR", "BL", "BR", "LFE")  # Ogg Vorbis / Opus order


def surround_file(path, order, amp=0.2):
    t = np.arange(2 * SR) / SR
    data = np.stack([amp * np.sin(2 * np.pi * FREQ[s] * t) for s in order], axis=1).astype(np.float32)
    return write_audio(path, data, SR)


def decode(path, out_channels):
    r = SourceReader(str(path), SR, out_channels)
    blocks = []
    while (b := r.read()) is not None:
        blocks.append(np.array(b))
    r.close()
    return np.concatenate(blocks)


def level(x, freq):
    """Amplitude of the sine at ``freq`` in one second from the middle of ``x`` (1-d)."""
    seg = x[SR // 2: SR // 2 + SR]
    return float(np.abs(np.fft.rfft(seg))[freq] * 2 / SR)


@pytest.mark.parametrize("ext,order", [("wav", SMPTE), ("flac", SMPTE), ("ogg", VORBIS), ("opus", VORBIS)])
def test_five_one_is_downmixed_by_speaker_position(tmp_path, ext, order):
    out = decode(surround_file(tmp_path / f"s51.{ext}", order), 2)
    assert out.shape[1] == 2
    left, right = out[:, 0], out[:, 1]
    lv = {s: level(left, f) for s, f in FREQ.items()}
    rv = {s: level(right, f) for s, f in FREQ.items()}
    tol = 0.01 if ext in ("wav", "flac") else 0.03  # lossy codecs
    side = 0.2 / (1 + 2 * np.sqrt(0.5))  # a front channel after normalising 1 + 0.707 + 0.707
    # front left/right and the surrounds stay on their side; the centre is in both at -3 dB; no LFE
    assert lv["FL"] == pytest.approx(side, abs=tol) and rv["FL"] < tol
    assert rv["FR"] == pytest.approx(side, abs=tol) and lv["FR"] < tol
    assert lv["FC"] == pytest.approx(side * np.sqrt(0.5), abs=tol)
    assert rv["FC"] == pytest.approx(side * np.sqrt(0.5), abs=tol)
    assert lv["BL"] == pytest.approx(side * np.sqrt(0.5), abs=tol) and rv["BL"] < tol
    assert rv["BR"] == pytest.approx(side * np.sqrt(0.5), abs=tol) and lv["BR"] < tol
    assert lv["LFE"] < tol and rv["LFE"] < tol


def test_full_scale_surround_cannot_clip(tmp_path):
    data = np.full((SR, 6), 0.99, np.float32)  # every channel at full scale, in phase
    out = decode(write_audio(tmp_path / "loud.wav", data, SR), 2)
    assert np.abs(out).max() <= 0.99 + 1e-3


def test_surround_to_a_mono_device_keeps_the_centre(tmp_path):
    out = decode(surround_file(tmp_path / "s51.flac", SMPTE), 1)
    assert out.shape[1] == 1
    assert level(out[:, 0], FREQ["FC"]) > 0.04  # the dialogue/vocal channel is there
    assert level(out[:, 0], FREQ["FL"]) == pytest.approx(level(out[:, 0], FREQ["FR"]), abs=0.01)


def test_mono_and_stereo_mapping():
    assert downmix_matrix(2, 2) is None and downmix_matrix(1, 2) is None
    np.testing.assert_allclose(downmix_matrix(2, 1), [[0.5], [0.5]])
    # no standard layout beyond 8 channels: the first pair
    m = downmix_matrix(10, 2)
    assert m.shape == (10, 2) and m[0, 0] == 1 and m[1, 1] == 1 and m[2:].sum() == 0
