"""A synthetic analysed library with known taste clusters, for the benchmark, the offline evaluation
and demos. Fully vectorised (100,000 songs in about a second) and seeded.

Songs belong to *styles* (clusters); a style prefers a handful of the 50 labels and has an embedding
centroid. Artists belong to one style, albums to one artist; the folder of a song is its style.
Listeners love one style (sometimes two): they rate songs of it highly, dislike a few others, and play
mostly what they love, in sessions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from player.recommend.data import PLAY_DTYPE, LibraryArrays, People, TrackTable

#: the MSD / last.fm top-50 tags (Choi et al.'s tagger vocabulary, the one seed 002 used).
MSD_TAGS = [
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock",
    "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental",
    "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist",
    "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy", "catchy", "funk",
    "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
]


@dataclass
class SyntheticTruth:
    style: np.ndarray  # style (cluster) of each song
    folder: list  # top-level folder (= style name) of each song
    loves: dict  # listener id -> list of loved styles
    style_names: list


def synthetic_arrays(
    n_tracks: int = 100_000,
    *,
    n_labels: int = 50,
    dim: int = 32,
    n_styles: int = 12,
    n_users: int = 10,
    ratings_per_user: int = 200,
    plays_per_user: int = 400,
    unanalysed_fraction: float = 0.02,
    separation: float = 1.0,
    seed: int = 0,
) -> tuple[LibraryArrays, SyntheticTruth]:
    """``separation`` scales how distinct the styles are (their core labels' weight and the spread
    of their embedding centroids); 1 is clear-cut, 0.2 heavily overlapping."""
    rng = np.random.default_rng(seed)
    T = int(n_tracks)
    labels = list(MSD_TAGS[:n_labels]) + [f"tag{i}" for i in range(max(0, n_labels - len(MSD_TAGS)))]
    L = len(labels)
    style_names = [f"style{i:02d}" for i in range(n_styles)]

    # styles: a label preference and an embedding centroid each
    pref = np.full((n_styles, L), 0.2)
    for c in range(n_styles):
        core = rng.choice(L, size=min(6, L), replace=False)
        pref[c, core] = 0.2 + separation * rng.uniform(2.8, 7.8, size=core.size)
    pref /= pref.sum(axis=1, keepdims=True)
    centroids = (separation * rng.normal(size=(n_styles, dim))).astype(np.float32)

    # artists and albums, each in one style; songs spread over the artists of their style
    n_artists = max(n_styles, T // 12)
    artist_style = np.arange(n_artists) % n_styles
    style = rng.integers(0, n_styles, size=T)
    per_style = [np.flatnonzero(artist_style == c) for c in range(n_styles)]
    artist = np.empty(T, dtype=np.int64)
    for c in range(n_styles):
        m = np.flatnonzero(style == c)
        artist[m] = rng.choice(per_style[c], size=m.size)
    order = np.lexsort((np.arange(T), artist))
    rank = np.empty(T, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(artist[order])) + 1]
    rank[order] = np.arange(T) - np.repeat(starts, np.diff(np.r_[starts, T]))
    album_no = rank // 8

    track_ids = np.arange(1, T + 1, dtype=np.int64)
    titles = [f"Song {i}" for i in track_ids]
    artists = [f"Artist {a}" for a in artist]
    albums = [f"Album {a}-{b}" for a, b in zip(artist, album_no)]
    folder = [style_names[c] for c in style]
    paths = [f"/music/{f}/Artist {a}/Album {b}/{i:06d}.ogg" for f, a, b, i in zip(folder, artist, album_no, track_ids)]

    # labels: 3-12 distinct labels per song drawn from its style's preference (Gumbel top-k)
    analysed = rng.random(T) >= unanalysed_fraction
    k = np.clip(3 + rng.poisson(3.0, size=T), 1, min(12, L))
    gumbel = np.log(pref[style]) - np.log(-np.log(rng.random((T, L))))
    top = np.argsort(-gumbel, axis=1)[:, : int(k.max())]
    take = np.arange(top.shape[1])[None, :] < k[:, None]
    take &= analysed[:, None]
    rows = np.broadcast_to(np.arange(T)[:, None], top.shape)[take]
    cols = top[take]
    counts = 1 + rng.binomial(9, np.clip(pref[style[rows], cols] * 6, 0.05, 0.95))
    lab_track = track_ids[rows]

    # embeddings: style centroid + artist offset + noise
    artist_offset = rng.normal(scale=0.5, size=(n_artists, dim)).astype(np.float32)
    emb = centroids[style] + artist_offset[artist] + rng.normal(scale=0.8, size=(T, dim)).astype(np.float32)
    emb_track = track_ids[analysed]
    emb = emb[analysed]

    # listeners
    users = {u: f"listener{u}" for u in range(1, n_users + 1)}
    loves = {}
    r_u, r_t, r_s = [], [], []
    plays = []
    play_id = 1
    by_style = [np.flatnonzero(style == c) for c in range(n_styles)]
    t0 = 1.7e9
    for u in users:
        loved = [int(rng.integers(n_styles))]
        if rng.random() < 0.3:
            loved.append(int((loved[0] + 1 + rng.integers(n_styles - 1)) % n_styles))
        loves[u] = loved
        pool_love = np.concatenate([by_style[c] for c in loved])
        n_like = int(ratings_per_user * 0.7)
        n_dis = int(ratings_per_user * 0.15)
        n_mid = ratings_per_user - n_like - n_dis
        liked = rng.choice(pool_love, size=min(n_like, pool_love.size), replace=False)
        others = np.setdiff1d(np.arange(T), pool_love, assume_unique=False)
        disliked = rng.choice(others, size=min(n_dis, others.size), replace=False)
        rest = np.setdiff1d(np.arange(T), np.concatenate([liked, disliked]))
        mid = rng.choice(rest, size=min(n_mid, rest.size), replace=False)
        for pos, stars in ((liked, rng.choice([4, 5], size=liked.size, p=[0.4, 0.6])),
                           (disliked, rng.choice([1, 2], size=disliked.size)),
                           (mid, np.full(mid.size, 3))):
            r_u.append(np.full(pos.size, u))
            r_t.append(track_ids[pos])
            r_s.append(stars)
        # plays: mostly the loved styles, in sessions of ~15 songs
        n_p = plays_per_user
        from_love = rng.random(n_p) < 0.85
        pos = np.where(from_love, rng.choice(pool_love, size=n_p), rng.integers(0, T, size=n_p))
        session = np.arange(n_p) // 15
        started = t0 + session * 86_400.0 + (np.arange(n_p) % 15) * 200.0 + u * 7.0
        skipped = (~from_love) & (rng.random(n_p) < 0.7)
        seconds = np.where(skipped, 10.0, 180.0)
        block = np.zeros(n_p, dtype=PLAY_DTYPE)
        block["id"] = np.arange(play_id, play_id + n_p)
        block["user"] = u
        block["track"] = track_ids[pos]
        block["started_at"] = started
        block["seconds"] = seconds
        block["skipped"] = skipped
        play_id += n_p
        plays.append(block)
    from player.analysis.store import Embeddings, LabelRows

    arrays = LibraryArrays.assemble(
        TrackTable(track_ids, titles, artists, albums, ok=np.ones(T, dtype=bool), paths=paths),
        LabelRows(lab_track, cols, counts.astype(np.float64), tuple(labels)),
        Embeddings(emb_track, emb),
        analysed_ids=emb_track,
        people=People(users, *(np.concatenate(x) if x else np.zeros(0, np.int64) for x in (r_u, r_t, r_s)),
                      plays=np.concatenate(plays) if plays else np.zeros(0, PLAY_DTYPE)),
    )
    return arrays, SyntheticTruth(style=style, folder=folder, loves=loves, style_names=style_names)


def write_library(library, arrays: LibraryArrays, *, with_people: bool = True) -> None:
    """Write synthetic arrays into a real library database (tracks, analysis, labels, listeners)."""
    now = 1.7e9
    T = len(arrays.track_ids)
    paths = arrays.paths or [f"/music/{i}.ogg" for i in arrays.track_ids]
    emb_of = dict(zip(arrays.emb_track.tolist(), range(len(arrays.emb_track))))
    analysed = set(arrays.analysed_ids.tolist()) if arrays.analysed_ids is not None else set(emb_of)
    with library.db.transaction() as c:
        c.executemany(
            "INSERT INTO tracks(id, path_raw, path, title, artist, album, albumartist, added_at, updated_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (int(arrays.track_ids[i]), os.fsencode(paths[i]), paths[i], arrays.titles[i], arrays.artists[i],
                 arrays.albums[i], arrays.album_artists[i] if arrays.album_artists else None, now, now,
                 "ok" if arrays.ok[i] else "missing")
                for i in range(T)
            ),
        )
        c.executemany(
            "INSERT INTO analysis(track_id, model_version, analysed_at, status, embedding) VALUES (?, ?, ?, 'ok', ?)",
            (
                (tid, "synthetic@1", now, arrays.embeddings[emb_of[tid]].astype(np.float32).tobytes() if tid in emb_of else None)
                for tid in sorted(analysed)
            ),
        )
        names = arrays.label_names
        c.executemany(
            "INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, 0.5)",
            zip(arrays.lab_track.tolist(), (names[i] for i in arrays.lab_label.tolist()),
                arrays.lab_count.astype(np.int64).tolist()),
        )
        if with_people:
            c.executemany("INSERT INTO users(id, name, created_at) VALUES (?, ?, ?)",
                          ((u, name, now) for u, name in arrays.users.items()))
            c.executemany(
                "INSERT INTO ratings(user_id, track_id, stars, rated_at) VALUES (?, ?, ?, ?)",
                zip(arrays.rating_user.tolist(), arrays.rating_track.tolist(), arrays.rating_stars.tolist(),
                    [now] * len(arrays.rating_user)),
            )
            p = arrays.plays
            c.executemany(
                "INSERT INTO plays(id, user_id, track_id, started_at, seconds_played, skipped) VALUES (?, ?, ?, ?, ?, ?)",
                zip(p["id"].tolist(), p["user"].tolist(), p["track"].tolist(), p["started_at"].tolist(),
                    p["seconds"].tolist(), p["skipped"].astype(int).tolist()),
            )
