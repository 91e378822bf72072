"""Library subcommands: scan, tracks, users, rate."""

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
    p = sub.add_parser("scan", parents=[common], help="import folders of music into the library")
    p.add_argument("folders", nargs="+", metavar="DIR")
    p.add_argument("--workers", type=positive_int, default=4, help="files probed in parallel (1-64, default 4)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only the summary")
    p.set_defaults(handler=cmd_scan)

    p = sub.add_parser("tracks", parents=[common], help="list the library")
    p.add_argument("--json", action="store_true", help="a JSON list of track objects")
    p.add_argument("--status", choices=["ok", "missing", "error"], help="only tracks with this status")
    p.set_defaults(handler=cmd_tracks)

    p = sub.add_parser("users", parents=[common], help="list listeners, or 'users add NAME'")
    p.add_argument("action", nargs="?", choices=["add", "list"], default="list")
    p.add_argument("name", nargs="?")
    p.set_defaults(handler=cmd_users)

    p = sub.add_parser("rate", parents=[common], help="rate a track 1-5 stars for a listener (0 clears)")
    p.add_argument("--user", "-u", required=True, metavar="NAME")
    p.add_argument("track", metavar="TRACK", help="track id or path")
    p.add_argument("stars", metavar="STARS", help="1-5, or 0 to clear")
    p.set_defaults(handler=cmd_rate)


def cmd_scan(args) -> int:
    import os

    from tqdm import tqdm

    from player.library.leftovers import check_leftovers, registered
    from player.library.scan import scan

    for folder in args.folders:
        if not os.path.isdir(folder):
            raise CliError(f"no such folder: {folder}" if not os.path.exists(folder) else f"not a folder: {folder}")
    show_bar = sys.stderr.isatty() and not args.quiet
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
                report = scan(library, args.folders, progress=progress, workers=args.workers)
        finally:
            bar.close()
    for notice in notices:
        print(f"note: {safe_text(notice)}")
    print(f"scan: {report.summary()} in {report.seconds:.1f} s")
    for folder, reason in report.folder_errors:
        print(f"  unreadable folder {safe_text(folder)}: {safe_text(reason)}")
    for path, reason in report.failed:
        print(f"  failed {safe_text(path)}: {safe_text(reason)}")
    for path, note in report.notes:
        print(f"  note {safe_text(path)}: {safe_text(note)}")
    return 0


def format_track_line(t) -> str:
    """One line of ``tracks``: id, length, artist - title, and the status when it is not ok."""
    length = "--:--" if t.duration is None else f"{int(t.duration // 60)}:{int(t.duration % 60):02d}"
    who = safe_text(t.artist) or "unknown artist"
    extra = "" if t.status == "ok" else f"  [{t.status}{': ' + safe_text(t.error) if t.error else ''}]"
    return f"{t.id:6d}  {length:>6}  {who} - {safe_text(t.title)}{extra}"


def cmd_tracks(args) -> int:
    with open_library(args) as library:
        tracks = library.tracks(status=args.status)
    if args.json:
        json.dump([t.as_json() for t in tracks], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    for t in tracks:
        print(format_track_line(t))
    if not tracks:
        print("the library is empty: import music with 'python -m player scan DIR'", file=sys.stderr)
    return 0


def cmd_users(args) -> int:
    with open_library(args) as library:
        if args.action == "add":
            if not args.name:
                raise CliError("usage: users add NAME")
            user = library.add_user(args.name)
            print(f"added listener {safe_text(user.name)} (id {user.id})")
            return 0
        if args.name:
            name = safe_text(args.name)
            raise CliError(f"unexpected argument '{name}'; did you mean 'users add {name}'?")
        users = library.users()
    for user in users:
        print(safe_text(user.name))
    if not users:
        print("no listeners yet: add one with 'python -m player users add NAME'", file=sys.stderr)
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
