"""The library's schema: named, numbered migrations, applied in order by :mod:`player.library.db`.

Append only: never edit a migration that has shipped. ``PRAGMA user_version`` holds how many have run.
"""

from __future__ import annotations

# (name, SQL). Append only: never edit a migration that has shipped.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE tracks (
            id           INTEGER PRIMARY KEY,
            path_raw     BLOB NOT NULL UNIQUE,     -- os.fsencode(path): exact, also for non-UTF-8 names
            path         TEXT NOT NULL,            -- display form (undecodable bytes backslash-escaped)
            title        TEXT,
            artist       TEXT,
            album        TEXT,
            albumartist  TEXT,
            tracknumber  INTEGER,
            year         INTEGER,
            genre        TEXT,                     -- the genre tag in the file, not our analysis
            duration     REAL,
            samplerate   INTEGER,
            channels     INTEGER,
            format       TEXT,
            size         INTEGER,
            mtime        REAL,
            added_at     REAL NOT NULL,
            updated_at   REAL NOT NULL,
            status       TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing', 'error')),
            error        TEXT
        );
        CREATE INDEX tracks_status ON tracks(status);
        CREATE INDEX tracks_artist ON tracks(artist COLLATE NOCASE);
        CREATE INDEX tracks_album ON tracks(album COLLATE NOCASE);

        CREATE TABLE users (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at  REAL NOT NULL
        );

        CREATE TABLE ratings (
            user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            track_id  INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            stars     INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
            rated_at  REAL NOT NULL,
            PRIMARY KEY (user_id, track_id)
        );
        CREATE INDEX ratings_track ON ratings(track_id);

        CREATE TABLE plays (
            id              INTEGER PRIMARY KEY,
            user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            track_id        INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            started_at      REAL NOT NULL,
            seconds_played  REAL NOT NULL DEFAULT 0,
            skipped         INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1))
        );
        CREATE INDEX plays_user_time ON plays(user_id, started_at);
        CREATE INDEX plays_track ON plays(track_id);

        -- Filled by background analysis (player.analysis): one row per track and model set.
        CREATE TABLE analysis (
            track_id       INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
            model_version  TEXT NOT NULL,          -- e.g. "tagger@1+cnn_lstm@1"
            analysed_at    REAL NOT NULL,
            status         TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            error          TEXT,
            n_excerpts     INTEGER,                -- excerpts/slices the labels were counted over
            tag_probs      BLOB,                   -- float32[n_tags], mean over excerpts
            genre_probs    BLOB,                   -- float32[n_genres], mean over slices
            embedding      BLOB                    -- float32[32], mean over slices
        );
        CREATE INDEX analysis_version ON analysis(model_version);

        -- The song's labels with counts (TF for the recommender's TF-IDF).
        CREATE TABLE track_labels (
            track_id     INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            label        TEXT NOT NULL,
            count        INTEGER NOT NULL CHECK (count > 0),
            probability  REAL NOT NULL,
            PRIMARY KEY (track_id, label)
        );
        CREATE INDEX track_labels_label ON track_labels(label);

        CREATE TABLE settings (
            key    TEXT PRIMARY KEY,
            value  TEXT
        );
        """,
    ),
    (
        "0002_playlists",
        """
        -- Saved playlists (entries in order) and smart playlists (a stored query, evaluated when read).
        CREATE TABLE playlists (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
            query       TEXT,                      -- a smart playlist's query; NULL for a saved list
            created_at  REAL NOT NULL,
            updated_at  REAL NOT NULL
        );
        CREATE TABLE playlist_entries (
            id           INTEGER PRIMARY KEY,
            playlist_id  INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
            position     INTEGER NOT NULL,         -- 0, 1, 2 … without gaps; the same track may repeat
            track_id     INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            added_at     REAL NOT NULL,
            UNIQUE (playlist_id, position)
        );
        CREATE INDEX playlist_entries_track ON playlist_entries(track_id);
        -- the newest analysis time in O(log n): smart playlists reload their arrays when it changes
        CREATE INDEX analysis_analysed_at ON analysis(analysed_at);
        """,
    ),
    (
        "0003_covers",
        """
        -- Cover art (player.library.covers): one row per distinct picture, shared by the tracks that
        -- show it; the bytes stay in the music file or the folder image.
        CREATE TABLE covers (
            hash      TEXT PRIMARY KEY,            -- sha1 of the picture's bytes, hex
            mime      TEXT NOT NULL,               -- from the picture's header, not the tag's claim
            width     INTEGER NOT NULL CHECK (width > 0),
            height    INTEGER NOT NULL CHECK (height > 0),
            added_at  REAL NOT NULL
        );
        ALTER TABLE tracks ADD COLUMN cover_hash TEXT REFERENCES covers(hash) ON DELETE SET NULL;
        -- NULL: not looked for yet; 'none': looked for, there is none
        ALTER TABLE tracks ADD COLUMN cover_source TEXT CHECK (cover_source IN ('embedded', 'folder', 'none'));
        ALTER TABLE tracks ADD COLUMN cover_path_raw BLOB;  -- os.fsencode(folder image); NULL if embedded
        CREATE INDEX tracks_cover_hash ON tracks(cover_hash);
        """,
    ),
    (
        "0004_warnings_and_removed",
        """
        -- A file that stops before its header's length is imported (status ok) with this warning.
        ALTER TABLE tracks ADD COLUMN warning TEXT;
        -- "Remove from library" (Library.remove_tracks): the file stays on disk, its row goes, and a
        -- rescan of its folder leaves it out until it is imported again explicitly (import_files).
        CREATE TABLE removed_files (
            path_raw    BLOB PRIMARY KEY,          -- os.fsencode(canonical path), as tracks.path_raw
            removed_at  REAL NOT NULL
        );
        -- Ratings kept for a removed file: given back when the file is imported again.
        CREATE TABLE removed_ratings (
            path_raw  BLOB NOT NULL,
            user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            stars     INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
            rated_at  REAL NOT NULL,
            PRIMARY KEY (path_raw, user_id)
        );
        """,
    ),
    (
        "0005_loudness",
        """
        -- EBU R128 loudness (player.library.loudness): one row per measured track. A row whose size or
        -- mtime is not the track's any more is of an older file: the track is measured again.
        CREATE TABLE loudness (
            track_id        INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
            measured_at     REAL NOT NULL,
            size            INTEGER,               -- the file's size and mtime when it was measured
            mtime           REAL,
            status          TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            error           TEXT,
            integrated      REAL,                  -- LUFS; NULL: nothing above the gates (silence)
            true_peak       REAL,                  -- dBTP; NULL: digital silence
            blocks          BLOB,                  -- float32 power of each 400 ms block above -70 LUFS
            album_key       TEXT,                  -- the album it belongs to (NULL: no album tag)
            tag_track_gain  REAL,                  -- ReplayGain in the file's tags: dB at -18 LUFS,
            tag_track_peak  REAL,                  -- peaks linear
            tag_album_gain  REAL,
            tag_album_peak  REAL
        );
        CREATE INDEX loudness_album ON loudness(album_key);
        -- An album's loudness over all its measured tracks' blocks (BS.1770's gates on the whole album).
        CREATE TABLE album_loudness (
            album_key    TEXT PRIMARY KEY,
            integrated   REAL,                     -- LUFS; NULL: silent
            true_peak    REAL,                     -- dBTP: the loudest of its tracks
            tracks       INTEGER NOT NULL,         -- measured tracks it was computed from
            computed_at  REAL NOT NULL
        );
        """,
    ),
    (
        "0006_vorbis_read_whole",
        """
        -- The reader once cut Ogg Vorbis frames to FFmpeg's packet lengths, which are wrong after long
        -- blocks (4-5 % of a song's samples lost): what was computed from such audio is computed again.
        -- The analysis and the loudness of every Ogg Vorbis track are dropped (ratings, plays and tags
        -- stay); the background analysis and the loudness pass take them up as for new songs.
        DELETE FROM analysis WHERE track_id IN (SELECT id FROM tracks WHERE format = 'ogg');
        DELETE FROM track_labels WHERE track_id IN (SELECT id FROM tracks WHERE format = 'ogg');
        DELETE FROM loudness WHERE track_id IN (SELECT id FROM tracks WHERE format = 'ogg');
        """,
    ),
]


SCHEMA_VERSION = len(MIGRATIONS)
