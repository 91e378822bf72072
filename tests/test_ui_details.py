"""Track details (player/ui/details.py): named tag and genre bars from the stored analysis, and the
mel spectrogram computed in a worker."""

from __future__ import annotations

import pytest

from uimusic import FAKE_GENRES, FAKE_TAGS, fake_analysis

pytestmark = pytest.mark.gui


def test_details_show_analysis_and_spectrogram(open_window, import_music, tagged_music, library, fake_models,
                                               settle):
    window = open_window()
    import_music(window, tagged_music(broken=False))
    fake_analysis(library, seed=3)
    window.model.refresh_labels(delta=False)
    settle(window)
    tid = window.model.track_id_at(0)
    window.view.selectRow(0)
    d = window.details.show_details(tid)
    settle(window, 100)
    assert len(d.tags.items) >= 4 and d.tags.items[0][1] >= d.tags.items[-1][1]
    assert len(d.genres.items) == 8 and abs(sum(p for _n, p in d.genres.items) - 1.0) < 1e-3
    assert d.spectrogram.has_image()
    # the names come from the models the stored version names
    assert {n for n, _p in d.tags.items} <= set(FAKE_TAGS) and {n for n, _p in d.genres.items} == set(FAKE_GENRES)
    assert "tagger@1+genre@1" in d.analysis_note.text()
    # it follows the selection while open
    window.view.selectRow(1)
    settle(window, 100)
    assert d.track_id == window.model.track_id_at(1)
    d.close()


def test_spectrogram_labels_the_middle_it_shows_and_silence_stays_dark(tmp_path, qtbot):
    import numpy as np

    from audiogen import write_audio
    from player.ui.details import TrackDetails, mel_spectrogram_rgb

    sr = 16000  # not the spectrogram's 22050: the start is the file's time, not a resampled count
    t = np.arange(212 * sr) / sr  # 3:32
    tone = write_audio(tmp_path / "long.flac", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None], sr)
    silent = write_audio(tmp_path / "silent.flac", np.zeros((5 * sr, 1), np.float32), sr)
    img, info = mel_spectrogram_rgb(str(tone))
    assert info["start"] == pytest.approx(91.0, abs=0.05) and info["seconds"] == pytest.approx(30.0, abs=0.05)
    d = TrackDetails()
    qtbot.addWidget(d)
    d.set_spectrogram(img, info)
    assert d.spec_note.text().startswith("30 s from 1:31")
    dark, _ = mel_spectrogram_rgb(str(silent))
    assert int(dark.max()) <= 8  # the floor's colour, not a stretched ramp
    assert int(img.max()) > 200  # a loud tone reaches the bright end


def test_details_show_loudness_format_and_the_files_warning(open_window, import_music, tagged_music, library, settle):
    from player.library.loudness import loudness_json, measure_track, save_loudness

    window = open_window()
    import_music(window, tagged_music(broken=False))
    tid = window.model.track_id_at(0)
    assert save_loudness(library, [measure_track(library.track(tid))]) == []
    with library.db.transaction() as c:
        c.execute("UPDATE tracks SET warning = ? WHERE id = ?", ("the file stops at 0:01 of the 0:02 announced", tid))
    d = window.details.show_details(tid)
    settle(window, 100)
    lufs = loudness_json(library, tid)["loudness_lufs"]
    assert d.fact("Loudness").startswith(f"{lufs:.1f} LUFS") and "true peak" in d.fact("Loudness")
    assert f"track {-18.0 - lufs:+.2f} dB" in d.fact("Gain") and "(measured)" in d.fact("Gain")
    assert "stops at 0:01" in d.fact("Warning")
    assert d.fact("Format").startswith("WAV") and "kbit/s" in d.fact("Format")
    other = window.model.track_id_at(1)  # not measured: said so, and no warning row
    window.details.show_details(other)
    settle(window, 100)
    assert d.fact("Loudness") == "not measured yet" and d.fact("Warning") is None
    d.close()
