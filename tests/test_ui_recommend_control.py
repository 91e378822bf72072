"""The window's recommender adapter (player/ui/recommend_control.py): what Up next asks of
``player.recommend`` and the reasons it shows."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_up_next_reasons_name_the_mood_as_the_cli_does(qtbot, playing_window, library, fake_models, settle):
    from player.commands.recommend import resolve_mood
    from player.mood.mapping import lookup
    from player.mood.smoothing import MoodState
    from uimusic import fake_analysis

    w = playing_window
    fake_analysis(library)  # every song carries tags, the mood's among them
    w.model.refresh_labels(delta=False)
    w.recs.library_changed()
    m = w.model
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    w.transport.play_track(ids["Harbour"])
    settle(w)
    # the camera's monitor decides on a mood (what it reports to the window: no pixels)
    w.mood.moodChanged.emit(MoodState(mood="happy", labels=lookup("happy"), confidence=0.9, face=True, changed=True))
    settle(w)
    assert w.recs.mood_labels == lookup("happy")
    entries = w.up_next.list.entries.entries
    assert entries
    # what the recommender gives for the same listener, song and mood, named as `next --mood happy` names it
    labels, name = resolve_mood("happy", w.recs.engine)
    assert labels == w.recs.mood_labels

    def reasons(**mood):
        """Each song's reason as the recommender gives it for this listener, song and mood (every song:
        which ones fill Up next, and in what order among equals, is not what this test is about)."""
        recs = w.recs.engine.up_next(w.recs.user_id, after_track_id=ids["Harbour"], n=len(ids),
                                     exclude_ids=(ids["Harbour"],), **mood)
        return {r.track_id: r.reason for r in recs}

    named, unnamed = reasons(mood_labels=labels, mood_name=name), reasons(mood_labels=labels)
    shown = {e.track_id: e.reason for e in entries}
    assert shown and all(shown[t] == named[t] for t in shown)
    assert any(shown[t] != unnamed[t] and shown[t].startswith(f"{name}:") for t in shown)  # the mood named
    # the mood goes off: Up next is the recommender's without a mood
    w.mood.moodChanged.emit(MoodState(mood=None, labels=[], message="no face", changed=True))
    settle(w)
    assert w.recs.mood_labels is None and w.recs.mood_name is None
    entries = w.up_next.list.entries.entries
    plain = reasons()
    assert entries and all(e.reason == plain[e.track_id] for e in entries)
