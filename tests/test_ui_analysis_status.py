"""Import → background analysis (player/ui/analysis_status.py; real Keras models in the service's worker
processes) → the window shows tags, genres, details, and Up next / More like this use them."""

from __future__ import annotations

import pytest

from player.ui.library_rows import COL
from uimusic import make_music

pytestmark = [pytest.mark.gui, pytest.mark.tf, pytest.mark.slow]

TAGS = ["rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
        "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "mellow",
        "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock",
        "ambient", "acoustic", "experimental", "female vocalist", "guitar", "hip-hop", "70s", "party", "country",
        "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "progressive rock", "60s", "rnb",
        "indie pop", "sad", "house", "happy"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from modelgen import make_random_models, shipped_models_present, SHIPPED

    if shipped_models_present():
        return SHIPPED
    return make_random_models(tmp_path_factory.mktemp("models"), tags=TAGS)


def test_import_then_analysis_feeds_the_window(qtbot, open_window, tmp_path, models, monkeypatch, settle,
                                               shoot):
    from player.analysis.engine import model_version

    monkeypatch.setenv("PLAYER_MODELS_DIR", str(models))
    make_music(tmp_path / "music", seconds=8.0, broken=False, sr=16000, rich=True)
    w = open_window()
    assert model_version()  # the models are there (a ModelError in words otherwise)
    done = []
    w.analysis_ctl.progress.connect(lambda p: done.append(p) if p.state in ("finished", "error", "cancelled") else None)
    with qtbot.waitSignal(w.imports.finished, timeout=30000):
        w.imports.import_folders([str(tmp_path / "music")])
    # analysis starts by itself after an import, in worker processes
    qtbot.waitUntil(lambda: bool(done), timeout=180000)
    assert done[-1].state == "finished", done[-1].message
    settle(w, 100)
    qtbot.waitUntil(lambda: len(w.model.snapshot.tags) == 14, timeout=10000)
    m = w.model
    tags = [m.data(m.index(r, COL["tags"])) for r in range(m.rowCount())]
    assert all(tags)
    from modelgen import SHIPPED

    if models != SHIPPED:  # random test models carry the TAGS names
        assert all(t.split(" · ")[0] in TAGS for t in tags)
    assert m.data(m.index(0, COL["genre"]), 3) == "Genre from the analysis of the audio"
    assert "Analysed" in w.analysis_status.label.text()
    # the sidebar offers the tags
    w.browse.refresh_facets()
    settle(w)
    assert w.sidebar._data["tag"]
    # details: named tag and genre bars, and the spectrogram
    d = w.details.show_details(m.track_id_at(0))
    settle(w, 100)
    assert len(d.genres.items) == 8 and d.genres.items[0][0] != "genre 1"
    assert len(d.tags.items) == 12
    qtbot.waitUntil(lambda: d.spectrogram.has_image(), timeout=20000)
    shoot(d, "details-analysed")
    d.close()
    # up next and more like this now have something to go on
    w.listeners.add("ann")
    settle(w)
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    for title in ("Neon Avenue", "Slow Lights", "Harbour"):
        w.listeners.rate([ids[title]], 5)
    settle(w)
    entries = w.up_next.list.entries.entries
    assert entries and all(e.reason for e in entries)
    assert all(e.analysed for e in entries)
    with qtbot.waitSignal(w.queue.moreLikeThisChanged, timeout=10000):
        w.queue.more_like_this(ids["Neon Avenue"])
    assert w.more_like.list.entries.entries
    w.right_tabs.setCurrentWidget(w.up_next)
    w.view.select_track(ids["Harbour"])
    shoot(w, "library-analysed")


def test_songs_whose_analysis_failed_need_attention_and_are_not_waiting(open_window, import_music, tagged_music,
                                                                         library, settle):
    from player.analysis.store import Failure, read_counts, save_results
    from uimusic import fake_analysis

    w = open_window()
    import_music(w, tagged_music(broken=False))
    fake_analysis(library)
    failed_id = w.model.track_id_at(0)
    with library.db.transaction() as c:
        c.execute("DELETE FROM track_labels WHERE track_id = ?", (failed_id,))
    save_results(library, "tagger@1+genre@1", [], failures=[Failure(failed_id, "the audio stops after 0.1 s")])
    w.model.refresh_labels(delta=False)
    w.browse.refresh_facets()
    settle(w)
    sb = w.sidebar
    assert not sb.unanalysed_item.text(0).startswith("Not analysed yet  (1")
    assert sb.problem_item.text(0) == "Needs attention  (1)" and not sb.problem_item.isHidden()
    assert "analysis failed: the audio stops after 0.1 s" in sb.problem_item.toolTip(0)
    sb.choose(("status", "problem"))
    settle(w)
    assert w.model.track_ids() == [failed_id]
    # "Analyse now" with nothing waiting does not claim that every song is analysed
    w.analysis_ctl._say_done(read_counts(library))
    level, text = w.notices.history[-1]
    assert "1 song could not be analysed" in text and "Needs attention" in text


def test_an_analysed_library_without_loudness_gets_its_loudness_measured(qtbot, open_window, tagged_music, library,
                                                                          settle):
    """Every song carries the current models' analysis but no loudness (a library analysed by an older
    version, or by `analyse --no-loudness`): “Analyse now” still starts the service, whose workers load
    no model and only measure the loudness."""
    import numpy as np

    from player.analysis.engine import model_version
    from player.analysis.registry import labels_for_version
    from player.analysis.store import AnalysisResult, read_counts, save_results
    from player.library.loudness import gains_for_track, pending_loudness
    from player.library.scan import scan

    scan(library, [str(tagged_music(broken=False, seconds=2.0))])  # imported and analysed before this window
    version = model_version()
    names = labels_for_version(version)
    rng = np.random.default_rng(0)
    ids = [r[0] for r in library.db.query("SELECT id FROM tracks WHERE status = 'ok' ORDER BY id")]
    save_results(library, version, [
        AnalysisResult(t, rng.random(len(names.tags), dtype=np.float32),
                       rng.random(len(names.genres), dtype=np.float32), rng.standard_normal(32).astype(np.float32))
        for t in ids])
    assert read_counts(library, version).pending == 0
    assert pending_loudness(library) == ids
    w = open_window()
    ends = []
    w.analysis_ctl.progress.connect(lambda p: ends.append(p) if p.state in ("finished", "error", "cancelled") else None)
    w.analysis_ctl.start()
    settle(w)
    assert w.analysis_ctl.live or ends, "the analysis service was not started"
    assert "loudness" in w.analysis_status.label.text()
    qtbot.waitUntil(lambda: bool(ends), timeout=120000)
    assert ends[-1].state == "finished", ends[-1].message
    assert ends[-1].loudness_done == len(ids)
    assert pending_loudness(library) == []
    assert gains_for_track(library, ids[0])  # playback can level these songs now
    assert w.analysis_status.label.text() == f"Measured the loudness of {len(ids):,} songs"
    # and with nothing left to do, “Analyse now” says so and starts nothing
    w.analysis_ctl.start()
    settle(w)
    assert not w.analysis_ctl.live and not w.analysis_ctl.control.running
    assert w.statusBar().currentMessage() == "Every song is analysed already."
