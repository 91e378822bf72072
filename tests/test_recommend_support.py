"""Helpers for the recommender tests: a real library file with hand-written analysis rows, and
seed 002's content recommender re-implemented literally in pandas (the slow reference).

The reference follows the seed's appendix line by line; the only changes are the ones pandas 2
forces (``DataFrame.append`` is gone: frames are collected and concatenated once; ``groupby().sum()``
sums the numeric column explicitly instead of every column), and it reads DataFrames instead of
CSV files. Nothing is vectorised.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pandas
import pytest

from player.library import Library

NOW = 1_700_000_000.0


def add_tracks(lib: Library, specs: list[dict], root: str = "/music") -> list[int]:
    """Insert tracks with their analysis rows. A spec: title, artist, album, labels {label: count},
    embedding (list or None), status ('ok'), folder. Returns the new track ids in order."""
    ids = []
    with lib.db.transaction() as c:
        for n, spec in enumerate(specs):
            folder = spec.get("folder", "")
            path = os.path.join(root, folder, f"{spec.get('title', 'song')}-{time.monotonic_ns()}-{n}.ogg")
            cur = c.execute(
                "INSERT INTO tracks(path_raw, path, title, artist, album, albumartist, added_at, updated_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (os.fsencode(path), path, spec.get("title"), spec.get("artist"), spec.get("album"),
                 spec.get("albumartist"), NOW, NOW, spec.get("status", "ok")),
            )
            tid = int(cur.lastrowid)
            ids.append(tid)
            labels = spec.get("labels") or {}
            emb = spec.get("embedding")
            if labels or emb is not None:
                c.execute(
                    "INSERT INTO analysis(track_id, model_version, analysed_at, status, embedding) "
                    "VALUES (?, 'test@1', ?, 'ok', ?)",
                    (tid, NOW, None if emb is None else np.asarray(emb, np.float32).tobytes()),
                )
            for label, count in labels.items():
                c.execute(
                    "INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, 0.5)",
                    (tid, label, int(count)),
                )
    return ids


def add_tagged_tracks(lib: Library, specs: list[dict], root: str = "/music", base: float = 0.02) -> list[int]:
    """Insert tracks analysed by the shipped models: a spec's ``tags`` {tag: probability} (every other tag
    ``base``) are stored as the analysis' tag probabilities, its labels are what the shipped label rule
    makes of them (``player.analysis.relabel.current_rule``: hidden tags never become labels), its
    ``embedding`` (list or None) as stored. Returns the new track ids in order."""
    from player.analysis.engine import model_version
    from player.analysis.relabel import current_rule

    version = model_version()
    _tagger, rule, names = current_rule()
    ids = []
    with lib.db.transaction() as c:
        for n, spec in enumerate(specs):
            name = f"{spec.get('title', 'song')}-{time.monotonic_ns()}-{n}.ogg"
            path = os.path.join(root, spec.get("folder", ""), name)
            tid = int(c.execute(
                "INSERT INTO tracks(path_raw, path, title, artist, album, albumartist, added_at, updated_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ok')",
                (os.fsencode(path), path, spec.get("title"), spec.get("artist"), spec.get("album"), None, NOW, NOW),
            ).lastrowid)
            ids.append(tid)
            tags = spec.get("tags")
            probs = None
            if tags is not None:
                probs = np.full(len(names), base, np.float32)
                for name, p in tags.items():
                    probs[names.index(name)] = p
            emb = spec.get("embedding")
            if probs is None and emb is None:
                continue
            c.execute("INSERT INTO analysis(track_id, model_version, analysed_at, status, n_excerpts, tag_probs, "
                      "embedding) VALUES (?, ?, ?, 'ok', 1, ?, ?)",
                      (tid, version, NOW, None if probs is None else probs.tobytes(),
                       None if emb is None else np.asarray(emb, np.float32).tobytes()))
            if probs is not None:
                labels = rule.from_mean(probs, 1, names)
                c.executemany("INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, ?)",
                              [(tid, label, cnt, p) for label, (cnt, p) in labels.items()])
    return ids


def set_ratings(lib: Library, user_id: int, ratings: dict[int, int]) -> None:
    for tid, stars in ratings.items():
        lib.rate(user_id, tid, stars)


# ---------------------------------------------------------------------------------------------
# seed 002, "Content Based Recommender", literally (pandas, one song at a time)
# ---------------------------------------------------------------------------------------------
class SeedContentRecommender:
    def __init__(self, labels_df: pandas.DataFrame, rating_df: pandas.DataFrame):
        # labels_df: one row per (track_id, label) occurrence, as main_labels.csv
        # rating_df: columns username, track_id, rating, as main_user_rating.csv
        self.labels_df = labels_df
        self.rating_source = rating_df
        self.TF = None
        self.user_profile = None
        self.rating_df = None
        self.similarityMatrix = None

    def constructLabelVector(self):
        labels_df = self.labels_df.copy()
        labels_df["label_count"] = 1
        # finding TF
        TF = labels_df.groupby(["track_id", "label"], as_index=False).count().rename(
            columns={"label_count": "label_count_TF"}
        )
        label_distinct = labels_df[["label", "track_id"]].drop_duplicates()
        # finding DF
        DF = label_distinct.groupby("label", as_index=False).count().rename(columns={"track_id": "label_count_DF"})
        a = math.log10(len(np.unique(labels_df["track_id"])))
        DF["IDF"] = a - np.log10(DF["label_count_DF"])
        TF = pandas.merge(TF, DF, on="label", how="left", sort=False)
        TF["TF-IDF"] = TF["label_count_TF"] * TF["IDF"]
        # calculating vector
        Vect_len = TF[["track_id", "TF-IDF"]].copy()
        Vect_len["TF-IDF-Sq"] = Vect_len["TF-IDF"] ** 2
        Vect_len = Vect_len.groupby(["track_id"], as_index=False).sum().rename(
            columns={"TF-IDF-Sq": "TF-IDF-Sq-Sum"}
        )[["track_id", "TF-IDF-Sq-Sum"]]
        Vect_len["vect_len"] = np.sqrt(Vect_len[["TF-IDF-Sq-Sum"]].sum(axis=1))
        # calculating the weight of the song
        TF = pandas.merge(TF, Vect_len, on="track_id", how="left", sort=False)
        TF["label_wt"] = TF["TF-IDF"] / TF["vect_len"]
        self.TF = TF
        return TF

    def constructUserProfile(self):
        TF = self.TF
        rating_df = self.rating_source
        rating_df = rating_df[rating_df["rating"] != 0]
        user_distinct = rating_df["username"].drop_duplicates()
        frames = []
        for user in user_distinct:
            user_data = rating_df[rating_df["username"] == user]
            user_data = pandas.merge(user_data, TF, on="track_id", how="inner")
            user_data_processed = user_data.groupby("label", as_index=False)[["label_wt"]].sum().rename(
                columns={"label_wt": "label_pref"}
            )[["label", "label_pref"]]
            user_data_processed["user"] = user
            frames.append(user_data_processed)
        self.rating_df = rating_df
        self.user_profile = pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame(
            columns=["label", "label_pref", "user"]
        )
        return self.user_profile

    def constructCosineSimilarity(self, songs=None, users=None):
        """The seed's double loop; ``songs``/``users`` restrict it to a sample (the benchmark)."""
        rating_df = self.rating_df
        user_profile = self.user_profile
        TF = self.TF
        distinct_users = np.unique(rating_df["username"]) if users is None else users
        frames = []
        for user in distinct_users:
            user_profile_all = user_profile[user_profile["user"] == user]
            distinct_songs = np.unique(TF["track_id"]) if songs is None else songs
            for song in distinct_songs:
                TF_song = TF[TF["track_id"] == song]
                label_merge = pandas.merge(TF_song, user_profile_all, on="label", how="left", sort=False)
                label_merge["label_pref"] = label_merge["label_pref"].fillna(0)
                label_merge["label_value"] = label_merge["label_wt"] * label_merge["label_pref"]
                label_wt_val = np.sqrt(np.sum(np.square(label_merge["label_wt"]), axis=0))
                label_pref_val = np.sqrt(np.sum(np.square(user_profile_all["label_pref"]), axis=0))
                label_merge_final = (
                    label_merge.groupby(["user", "track_id"])
                    .agg({"label_value": "sum"})
                    .rename(columns={"label_value": "score"})
                    .reset_index()
                )
                with np.errstate(divide="ignore", invalid="ignore"):
                    label_merge_final["score"] = label_merge_final["score"] / (label_wt_val * label_pref_val)
                frames.append(label_merge_final)
        label_merge_all = pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame(
            columns=["user", "track_id", "score"]
        )
        label_merge_all = label_merge_all.sort_values(by=["user", "score"]).reset_index(drop=True)
        self.similarityMatrix = label_merge_all
        return label_merge_all

    def prepareRecommendation(self, songs=None, users=None):
        self.constructLabelVector()
        self.constructUserProfile()
        self.constructCosineSimilarity(songs, users)


def seed_frames(track_labels: dict[int, dict[str, int]], ratings: dict[str, dict[int, int]]):
    """The seed's input tables: a row per label occurrence (TF = repeated rows), and the ratings."""
    rows = [(tid, label) for tid, labs in track_labels.items() for label, cnt in labs.items() for _ in range(cnt)]
    labels_df = pandas.DataFrame(rows, columns=["track_id", "label"])
    rrows = [(user, tid, stars) for user, d in ratings.items() for tid, stars in d.items()]
    rating_df = pandas.DataFrame(rrows, columns=["username", "track_id", "rating"])
    return labels_df, rating_df


# ---------------------------------------------------------------------------------------------
def test_add_tracks_writes_real_rows(library):
    ids = add_tracks(library, [{"title": "a", "labels": {"rock": 2}, "embedding": [1.0] * 32}, {"title": "b"}])
    assert len(ids) == 2
    assert library.track(ids[0]).title == "a"
    row = library.db.query_one("SELECT count FROM track_labels WHERE track_id = ?", (ids[0],))
    assert row["count"] == 2
    blob = library.db.query_one("SELECT embedding FROM analysis WHERE track_id = ?", (ids[0],))["embedding"]
    assert np.frombuffer(blob, np.float32).shape == (32,)
    assert library.db.query_one("SELECT 1 FROM analysis WHERE track_id = ?", (ids[1],)) is None


def test_seed_reference_runs_the_seed_example():
    # two songs share 'slow'; 'pop' is rarer, as in the report's explanation of IDF
    labels_df, rating_df = seed_frames(
        {1: {"slow": 1, "pop": 1}, 2: {"slow": 2}, 3: {"rock": 1}}, {"ali": {1: 5}}
    )
    ref = SeedContentRecommender(labels_df, rating_df)
    ref.prepareRecommendation()
    scores = dict(zip(ref.similarityMatrix["track_id"], ref.similarityMatrix["score"]))
    assert scores[1] == pytest.approx(1.0)
    assert 0 < scores[2] < 1
    assert 3 not in scores  # shares no label with the profile: the seed leaves it out
