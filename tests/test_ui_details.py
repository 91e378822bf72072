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
