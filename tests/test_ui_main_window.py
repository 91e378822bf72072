"""The window as a whole (player/ui/main_window.py): a feature whose core cannot start is switched off
with the reason in words, and everything else goes on working."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui


def test_features_that_cannot_start_are_disabled_with_reasons(open_window, import_music, tagged_music, library,
                                                               tmp_path, monkeypatch, settle):
    # a broken install: the playback engine and the recommender cannot load, the expression model is
    # missing (the audio reader the import uses is already loaded)
    import player.audio.errors  # noqa: F401
    import player.audio.reader  # noqa: F401

    monkeypatch.setitem(sys.modules, "player.audio", None)
    monkeypatch.setitem(sys.modules, "player.recommend", None)
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(tmp_path / "no models here"))
    w = open_window()
    import_music(w, tagged_music(broken=False))
    assert not w.now_playing.play.isEnabled() and "playback could not start" in w.now_playing.play.toolTip()
    assert not w.actions.play.isEnabled() and "playback could not start" in w.actions.play.toolTip()
    assert not w.mood_box.button.isEnabled() and "expression model" in w.mood_box.button.toolTip()
    assert not w.actions.mood.isEnabled()
    # the rest works: rating, and playing says why not
    w.listeners.add("cy")
    settle(w)
    # the recommender is asked for the first time for a listener: it cannot load, its features go off
    assert not w.actions.more_like.isEnabled() and "recommend" in w.actions.more_like.toolTip()
    assert not w.more_like.refresh.isEnabled()
    assert "recommendations are unavailable" in w.up_next.hint.text()
    assert "playback could not start" in w.up_next.hint.text()
    w.listeners.rate([w.model.track_id_at(0)], 4)
    settle(w)
    assert library.ratings(w.listeners.user.id) == {w.model.track_id_at(0): 4}
    w.view.doubleClicked.emit(w.model.index(0, 0))
    assert "playback could not start" in w.notices.history[-1][1]
    w.queue.more_like_this(w.model.track_id_at(0))
    assert "recommendations are unavailable" in w.notices.history[-1][1]

