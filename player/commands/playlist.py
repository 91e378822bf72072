"""Playlist subcommands: ``playlist …`` (saved and smart playlists, files), ``smart``, ``radio``, ``path``,
and listening together for ``next --user A --user B``.

Positions on the command line are 1-based, as ``playlist show`` prints them. ``--json`` prints a list of
objects with at least ``id`` and ``path`` (``radio`` and ``path`` add ``reason``).
"""

from __future__ import annotations

import json
import sys

from player.commands.common import CliError, open_library, safe_text


def register(sub, common) -> None:
    p = sub.add_parser("playlist", parents=[common], help="saved and smart playlists; import and export files",
                       description="Saved playlists (songs in order) and smart playlists (a query, see "
                                   "docs/playlists.md); import and export M3U, M3U8, PLS and XSPF files.")
    p.set_defaults(handler=cmd_list, json=False)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    a = actions.add_parser("list", parents=[common], help="every playlist with its size")
    a.add_argument("--json", action="store_true", help="a JSON list of playlists")
    a.set_defaults(handler=cmd_list)

    a = actions.add_parser("show", parents=[common], help="the songs of a playlist, in order")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--user", "-u", metavar="NAME", help="the listener a smart playlist's stars and plays are read for")
    a.add_argument("--json", action="store_true", help="a JSON list of {id, path, position, title, …}")
    a.set_defaults(handler=cmd_show)

    a = actions.add_parser("create", parents=[common], help="a new playlist (smart with --query)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--query", "-q", metavar="QUERY", help="make it a smart playlist (docs/playlists.md)")
    a.set_defaults(handler=cmd_create)

    a = actions.add_parser("add", parents=[common], help="add songs (ids or paths) at the end, or --at a position")
    a.add_argument("name", metavar="NAME")
    a.add_argument("tracks", nargs="+", metavar="TRACK")
    a.add_argument("--at", type=int, metavar="POS", help="insert before this position (1 is the top)")
    a.set_defaults(handler=cmd_add)

    a = actions.add_parser("remove", parents=[common], help="remove the songs at these positions")
    a.add_argument("name", metavar="NAME")
    a.add_argument("positions", nargs="+", type=int, metavar="POS")
    a.set_defaults(handler=cmd_remove)

    a = actions.add_parser("move", parents=[common], help="move the song at FROM to position TO")
    a.add_argument("name", metavar="NAME")
    a.add_argument("source", type=int, metavar="FROM")
    a.add_argument("target", type=int, metavar="TO")
    a.set_defaults(handler=cmd_move)

    a = actions.add_parser("rename", parents=[common], help="rename a playlist")
    a.add_argument("old", metavar="OLD")
    a.add_argument("new", metavar="NEW")
    a.set_defaults(handler=cmd_rename)

    a = actions.add_parser("duplicate", parents=[common], help="copy a playlist (its songs, or its query)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("new", nargs="?", metavar="NEW")
    a.set_defaults(handler=cmd_duplicate)

    a = actions.add_parser("delete", parents=[common], help="delete a playlist (its songs stay in the library)")
    a.add_argument("name", metavar="NAME")
    a.set_defaults(handler=cmd_delete)

    a = actions.add_parser("import", parents=[common], help="make a playlist from an M3U, M3U8, PLS or XSPF file")
    a.add_argument("file", metavar="FILE")
    a.add_argument("--name", metavar="NAME", help="the playlist's name (default: the file's title or name)")
    a.add_argument("--replace", action="store_true", help="refill an existing playlist of that name")
    a.set_defaults(handler=cmd_import)

    a = actions.add_parser("export", parents=[common], help="write a playlist to FILE (.m3u .m3u8 .pls .xspf)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("file", metavar="FILE")
    a.add_argument("--user", "-u", metavar="NAME", help="the listener a smart playlist is read for")
    a.add_argument("--absolute", action="store_true", help="absolute paths even when relative ones would do")
    a.set_defaults(handler=cmd_export)

    p = sub.add_parser("smart", parents=[common], help="the songs a smart-playlist query selects",
                       description="Evaluate a smart-playlist query (docs/playlists.md), e.g. "
                                   "'tag:piano>0.3 stars>=4 sort:-added limit:50'.")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--user", "-u", metavar="NAME", help="whose stars and plays to read")
    p.add_argument("-n", type=int, metavar="N", help="show at most N songs")
    p.add_argument("--json", action="store_true", help="a JSON list of {id, path, title, …}")
    p.set_defaults(handler=cmd_smart)

    p = sub.add_parser("radio", parents=[common], help="an endless radio from a song, album, artist, tag or playlist",
                       description="Songs like the seed, drifting with what comes, for the listeners' taste; "
                                   "never a song twice within hours, never one artist twice in a row.")
    p.add_argument("--from", dest="seed", required=True, metavar="SEED",
                   help="TRACK (id or path), album:NAME, artist:NAME, tag:NAME or playlist:NAME")
    p.add_argument("--user", "-u", action="append", default=[], metavar="NAME", help="a listener (repeatable)")
    p.add_argument("-n", type=int, default=10, metavar="N", help="how many songs (default 10)")
    p.add_argument("--json", action="store_true", help="a JSON list of {id, path, title, score, reason, …}")
    p.set_defaults(handler=cmd_radio)

    p = sub.add_parser("path", parents=[common], help="a sonic path from song A to song B",
                       description="N songs from A to B, each close to the one before and moving towards B.")
    p.add_argument("start", metavar="A", help="track id or path")
    p.add_argument("end", metavar="B", help="track id or path")
    p.add_argument("-n", type=int, default=8, metavar="N", help="songs between A and B (default 8)")
    p.add_argument("--json", action="store_true", help="a JSON list of {id, path, step, title, reason, …}")
    p.set_defaults(handler=cmd_path)


# -- output -----------------------------------------------------------------------------------
def _length(seconds) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _song(track, **extra) -> dict:
    row = {"id": track.id, "path": track.display_path, "title": track.title, "artist": track.artist,
           "album": track.album, "duration": track.duration, "status": track.status}
    row.update(extra)
    return row


def _dump(rows) -> None:
    json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def _line(n: int, track, note: str = "") -> str:
    who = safe_text(track.artist) or "unknown artist"
    flag = "" if track.status == "ok" else f"  [{track.status}]"
    return f"{n:4d}. {track.id:6d}  {_length(track.duration):>7}  {who} - {safe_text(track.title)}{flag}{note}"


def _check_n(n, what="-n") -> int:
    if n is None:
        return None
    if n < 1 or n > 100_000:
        raise CliError(f"{what} must be from 1 to 100000, not {n}")
    return n


def _user_id(library, name):
    return None if not name else library.user(name).id


def _warn(warnings) -> None:
    for w in warnings:
        print(f"note: {safe_text(w)}", file=sys.stderr)


# -- playlist …  ------------------------------------------------------------------------------
def cmd_list(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        playlists = Playlists(library).list()
    if args.json:
        _dump([p.as_json() for p in playlists])
        return 0
    if not playlists:
        print("no playlists yet: make one with 'playlist create NAME' or 'playlist import FILE'", file=sys.stderr)
    for p in playlists:
        if p.is_smart:
            print(f"{p.id:4d}  {safe_text(p.name)}  (smart: {safe_text(p.query)})")
        else:
            missing = f", {p.missing} missing" if p.missing else ""
            print(f"{p.id:4d}  {safe_text(p.name)}  ({p.count} songs, {_length(p.duration)}{missing})")
    return 0


def cmd_show(args) -> int:
    from player.library.playlists import Playlists, tracks_by_ids
    from player.library.smart import evaluate

    with open_library(args) as library:
        store = Playlists(library)
        playlist = store.get(args.name)
        user = _user_id(library, args.user)
        if playlist.is_smart:
            result = evaluate(library, playlist.query, user_id=user)
            _warn(result.warnings)
            entries = list(enumerate(tracks_by_ids(library, result.track_ids)))
        else:
            entries = [(e.position, e.track) for e in store.entries(playlist.id)]
    if args.json:
        _dump([_song(t, position=i + 1) for i, t in entries])
        return 0
    kind = f"smart: {safe_text(playlist.query)}" if playlist.is_smart else f"{len(entries)} songs"
    print(f"{safe_text(playlist.name)} ({kind}, {_length(sum(t.duration or 0 for _, t in entries))})")
    for i, t in entries:
        print(_line(i + 1, t))
    return 0


def cmd_create(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        p = Playlists(library).create(args.name, query=args.query)
    print(f"created {'smart ' if p.is_smart else ''}playlist {safe_text(p.name)} (id {p.id})")
    return 0


def cmd_add(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        ids = [library.resolve_track(ref).id for ref in args.tracks]
        store = Playlists(library)
        at = None if args.at is None else args.at - 1
        positions = store.add(args.name, ids, position=at)
        p = store.get(args.name)
    where = f"at {positions[0] + 1}" if positions else ""
    print(f"added {len(ids)} song{'s' * (len(ids) != 1)} to {safe_text(p.name)} {where} (now {p.count})")
    return 0


def cmd_remove(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        store = Playlists(library)
        removed = store.remove(args.name, [x - 1 for x in args.positions])
        p = store.get(args.name)
    print(f"removed {removed} song{'s' * (removed != 1)} from {safe_text(p.name)} (now {p.count})")
    return 0


def cmd_move(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        store = Playlists(library)
        store.move(args.name, args.source - 1, args.target - 1)
        p = store.get(args.name)
    print(f"moved song {args.source} of {safe_text(p.name)} to {args.target}")
    return 0


def cmd_rename(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        p = Playlists(library).rename(args.old, args.new)
    print(f"renamed to {safe_text(p.name)}")
    return 0


def cmd_duplicate(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        p = Playlists(library).duplicate(args.name, args.new)
    print(f"copied to {safe_text(p.name)} (id {p.id})")
    return 0


def cmd_delete(args) -> int:
    from player.library.playlists import Playlists

    with open_library(args) as library:
        store = Playlists(library)
        p = store.get(args.name)
        store.delete(p.id)
    print(f"deleted playlist {safe_text(p.name)} (its songs stay in the library)")
    return 0


def cmd_import(args) -> int:
    from player.library.playlist_files import import_playlist

    with open_library(args) as library:
        report = import_playlist(library, args.file, name=args.name, replace=args.replace)
    print(f"imported {safe_text(report.playlist.name)}: {report.summary()}")
    for line, location, reason in report.unresolved:
        print(f"  line {line}: {safe_text(location)}: {safe_text(reason)}")
    for line, reason in report.skipped:
        print(f"  line {line} skipped: {safe_text(reason)}")
    return 0


def cmd_export(args) -> int:
    from player.library.playlist_files import export_playlist

    with open_library(args) as library:
        user = _user_id(library, args.user)
        count = export_playlist(library, args.name, args.file, user_id=user, relative=False if args.absolute else None)
    print(f"wrote {count} song{'s' * (count != 1)} to {safe_text(args.file)}")
    return 0


# -- smart, radio, path, next for several listeners ----------------------------------------------
def cmd_smart(args) -> int:
    from player.library.playlists import tracks_by_ids
    from player.library.smart import evaluate

    n = _check_n(args.n)
    with open_library(args) as library:
        result = evaluate(library, args.query, user_id=_user_id(library, args.user))
        ids = result.track_ids[:n] if n else result.track_ids
        tracks = tracks_by_ids(library, ids)
    _warn(result.warnings)
    if args.json:
        _dump([_song(t) for t in tracks])
        return 0
    for i, t in enumerate(tracks, 1):
        print(_line(i, t))
    more = len(result.track_ids) - len(tracks)
    total = f" (showing {len(tracks)})" if more > 0 else ""
    print(f"{len(result.track_ids)} song{'s' * (len(result.track_ids) != 1)}{total}", file=sys.stderr)
    return 0


def _print_picks(library, items, as_json: bool, empty: str, extra=lambda item: {}) -> None:
    from player.library.playlists import tracks_by_ids

    tracks = {t.id: t for t in tracks_by_ids(library, [x.track_id for x in items])}
    rows = [(x, tracks[x.track_id]) for x in items if x.track_id in tracks]
    if as_json:
        _dump([_song(t, score=round(float(x.score), 6), reason=x.reason, **extra(x)) for x, t in rows])
        return
    if not rows:
        print(empty, file=sys.stderr)
    for i, (x, t) in enumerate(rows, 1):
        print(_line(i, t))
        print(f"{'':14}{safe_text(x.reason)}")


def _recommender(library):
    from player.recommend import Recommender, RecommendSettings

    if library.track_count() == 0:
        raise CliError("the library is empty: scan a folder of music first ('scan DIR')")
    return Recommender.from_library(library, settings=RecommendSettings.load(library))


def cmd_radio(args) -> int:
    from player.library.playlists import Playlists
    from player.recommend.radio import Radio, seed_from

    n = _check_n(args.n)
    with open_library(args) as library:
        users = [library.user(name).id for name in dict.fromkeys(args.user)]
        rec = _recommender(library)
        spec = args.seed.strip()
        kind = spec.partition(":")[0].lower()
        if kind not in ("album", "artist", "tag", "playlist"):
            spec = library.resolve_track(spec).id  # an id or a path

        def playlist(name):
            store = Playlists(library)
            p = store.get(name)
            return p.name, store.track_ids(p.id, user_id=users[0] if users else None)

        radio = Radio(rec, seed_from(rec, spec, playlist=playlist), user_ids=users)
        picks = radio.next(n)
        _print_picks(library, picks, args.json, "nothing left to play: every song was heard in the last hours")
    return 0


def cmd_path(args) -> int:
    from player.recommend.sonic_path import sonic_path

    n = args.n
    if n < 0 or n > 1000:
        raise CliError(f"-n must be from 0 to 1000, not {n}")
    with open_library(args) as library:
        a = library.resolve_track(args.start)
        b = library.resolve_track(args.end)
        rec = _recommender(library)
        steps = sonic_path(rec, a.id, b.id, n=n)
        _print_picks(library, steps, args.json, "", extra=lambda s: {"step": s.step})
    if len(steps) - 2 < n:
        print(f"note: only {len(steps) - 2} songs could be placed between them", file=sys.stderr)
    return 0


def cmd_next_together(args) -> int:
    """``next --user A --user B …``: one Up next for several listeners (player.recommend.together)."""
    from player.recommend.together import together_up_next

    if args.mood is not None:
        raise CliError("--mood works for one listener; leave it out for several")
    n = args.n
    if n < 1 or n > 10_000:
        raise CliError(f"-n must be from 1 to 10000, not {n}")
    with open_library(args) as library:
        users = [library.user(name).id for name in dict.fromkeys(args.user)]
        after = library.resolve_track(args.after).id if args.after else None
        rec = _recommender(library)
        recs = together_up_next(rec, users, after_track_id=after, n=n)
        extra = (lambda r: {"parts": r.parts}) if args.explain else (lambda r: {"analysed": r.analysed})
        _print_picks(library, recs, args.json, "nothing to propose: every song is excluded (recently played or "
                     "disliked by one of you)", extra=extra)
    return 0
