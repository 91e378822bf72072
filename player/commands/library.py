"""Library subcommands: scan, tracks, users, rate, remove."""

from __future__ import annotations

import argparse
import json
import sys

from player.commands.common import CliError, open_library, safe_text


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{safe_text(text)[:20]}' is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 1 to 64, not {value}")
    return value


def register(sub, common) -> None:
    p = sub.add_parser("scan", parents=[common], help="import folders (or single files) of music into the library")
    p.add_argument("folders", nargs="+", metavar="PATH",
                   help="a folder (imported with everything below it) or a file (imported even if it was "
                        "removed from the library)")
    p.add_argument("--workers", type=positive_int, default=4, help="files probed in parallel (1-64, default 4)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only the summary")
    p.set_defaults(handler=cmd_scan)

    p = sub.add_parser("tracks", parents=[common], help="list the library")
    p.add_argument("--json", action="store_true", help="a JSON list of track objects")
    p.add_argument("--status", choices=["ok", "missing", "error"], help="only tracks with this status")
    p.set_defaults(handler=cmd_tracks)

    p = sub.add_parser("users", parents=[common],
                       help="list listeners, or 'users add NAME' | 'rename OLD NEW' | 'delete NAME [--yes]'")
    p.add_argument("action", nargs="?", choices=["add", "list", "rename", "delete"], default="list")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--yes", "-y", action="store_true", help="delete without asking")
    p.set_defaults(handler=cmd_users)

    p = sub.add_parser("remove", parents=[common],
                       help="remove tracks from the library (the files stay on disk; a folder scan leaves them out)")
    p.add_argument("tracks", nargs="+", metavar="TRACK", help="track id or path")
    p.add_argument("--forget-ratings", action="store_true",
                   help="delete their ratings too (kept by default: they come back if the file is imported again)")
    p.set_defaults(handler=cmd_remove)

    p = sub.add_parser("rate", parents=[common], help="rate a track 1-5 stars for a listener (0 clears)")
    p.add_argument("--user", "-u", required=True, metavar="NAME")
    p.add_argument("track", metavar="TRACK", help="track id or path")
    p.add_argument("stars", metavar="STARS", help="1-5, or 0 to clear")
    p.set_defaults(handler=cmd_rate)


def cmd_scan(args) -> int:
    import os

    from tqdm import tqdm

    from player.library.leftovers import check_leftovers, registered
    from player.library.scan import import_files, scan

    for path in args.folders:
        if not os.path.exists(path):
            raise CliError(f"no such folder or file: {safe_text(path)}")
    folders = [p for p in args.folders if os.path.isdir(p)]
    files = [p for p in args.folders if not os.path.isdir(p)]
    show_bar = sys.stderr.isatty() and not args.quiet
    reports = []
    with open_library(args) as library:
        notices = check_leftovers(library.path)
        bar = tqdm(total=0, unit="file", disable=not show_bar, file=sys.stderr, dynamic_ncols=True)

        def progress(done, total, path):
            if bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh() if done % 25 == 0 or done == total else None

        try:
            with registered(library.path, "cli-import"):
                if folders:
                    reports.append(("scan", scan(library, folders, progress=progress, workers=args.workers)))
                if files:
                    reports.append(("import", import_files(library, files, progress, workers=args.workers)))
        finally:
            bar.close()
    for notice in notices:
        print(f"note: {safe_text(notice)}")
    for label, report in reports:
        print_report(label, report)
    return 0


def print_report(label: str, report) -> None:
    """A scan's summary line, then a line per unreadable folder, failure, file still failing, warning
    and note."""
    print(f"{label}: {report.summary()} in {report.seconds:.1f} s")
    for folder, reason in report.folder_errors:
        print(f"  unreadable folder {safe_text(folder)}: {safe_text(reason)}")
    for kind, entries in (("failed", report.failed), ("still cannot be read", report.still_failing),
                          ("warning", report.warnings), ("note", report.notes)):
        for path, text in entries:
            print(f"  {kind} {safe_text(path)}: {safe_text(text)}")


def format_track_line(t) -> str:
    """One line of ``tracks``: id, length, artist - title, and the status when it is not ok."""
    length = "--:--" if t.duration is None else f"{int(t.duration // 60)}:{int(t.duration % 60):02d}"
    who = safe_text(t.artist) or "unknown artist"
    extra = "" if t.status == "ok" else f"  [{t.status}{': ' + safe_text(t.error) if t.error else ''}]"
    if t.warning and t.status == "ok":
        extra = f"  [warning: {safe_text(t.warning)}]"
    return f"{t.id:6d}  {length:>6}  {who} - {safe_text(t.title)}{extra}"


def cmd_tracks(args) -> int:
    with open_library(args) as library:
        tracks = library.tracks(status=args.status)
        if args.json:
            rows = [track_json(library, t) for t in tracks]
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    for t in tracks:
        print(format_track_line(t))
    if not tracks:
        print("the library is empty: import music with 'python -m player scan DIR'", file=sys.stderr)
    return 0


def track_json(library, track) -> dict:
    """A track in ``tracks --json``: its fields, ``warning``, ``cover`` (null or {source, width,
    height}) and the loudness fields (null when not measured)."""
    from player.library.covers import cover_json
    from player.library.loudness import loudness_json

    return {**track.as_json(), "cover": cover_json(library, track.id), **loudness_json(library, track.id)}


def cmd_users(args) -> int:
    wanted = {"add": 1, "rename": 2, "delete": 1, "list": 0}[args.action]
    usage = {"add": "users add NAME", "rename": "users rename OLD NEW", "delete": "users delete NAME [--yes]"}
    if len(args.names) != wanted:
        if args.action == "list":
            name = safe_text(args.names[0])
            raise CliError(f"unexpected argument '{name}'; did you mean 'users add {name}'?")
        raise CliError(f"usage: {usage[args.action]}")
    with open_library(args) as library:
        if args.action == "add":
            user = library.add_user(args.names[0])
            print(f"added listener {safe_text(user.name)} (id {user.id})")
            return 0
        if args.action == "rename":
            old = library.user(args.names[0])
            user = library.rename_user(old.name, args.names[1])
            print(f"renamed listener {safe_text(old.name)} to {safe_text(user.name)}")
            return 0
        if args.action == "delete":
            return _delete_user(library, args.names[0], args.yes)
        users = library.users()
    for user in users:
        print(safe_text(user.name))
    if not users:
        print("no listeners yet: add one with 'python -m player users add NAME'", file=sys.stderr)
    return 0


def _delete_user(library, name: str, yes: bool) -> int:
    user = library.user(name)
    ratings = len(library.ratings(user.id))
    plays = int(library.db.query_one("SELECT COUNT(*) FROM plays WHERE user_id = ?", (user.id,))[0])
    what = f"{safe_text(user.name)} with {ratings} rating{'s' * (ratings != 1)} and {plays} play{'s' * (plays != 1)}"
    if not yes:
        if not sys.stdin.isatty():
            raise CliError(f"this deletes {what}: add --yes to do it")
        answer = input(f"delete listener {what}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing deleted")
            return 1
    library.delete_user(user.name)
    print(f"deleted listener {what}")
    return 0


def cmd_remove(args) -> int:
    with open_library(args) as library:
        tracks = {}
        for ref in args.tracks:
            track = library.resolve_track(ref)
            tracks[track.id] = track
        n = library.remove_tracks(list(tracks), keep_ratings=not args.forget_ratings)
    for track in tracks.values():
        print(f"removed {track.id}  {safe_text(track.display_path)}")
    kept = "their ratings are kept for when they come back" if not args.forget_ratings else "their ratings are gone"
    print(f"{n} track{'s' * (n != 1)} removed from the library; the files stay on disk and folder scans leave them "
          f"out ('scan FILE' imports one again; {kept})")
    return 0


def cmd_rate(args) -> int:
    with open_library(args) as library:
        user = library.user(args.user)
        track = library.resolve_track(args.track)
        library.rate(user.id, track.id, args.stars)
        stars = int(args.stars)
    title = safe_text(track.title)
    if stars:
        print(f"{safe_text(user.name)} rated {title} {'★' * stars}{'☆' * (5 - stars)}")
    else:
        print(f"{safe_text(user.name)}'s rating of {title} cleared")
    return 0
