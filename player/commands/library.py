"""Library subcommands: scan, tracks, users, rate."""

from __future__ import annotations

import json
import sys


def register(sub, common) -> None:
    p = sub.add_parser("scan", parents=[common], help="import folders of music into the library")
    p.add_argument("folders", nargs="+", metavar="DIR")
    p.add_argument("--workers", type=int, default=4, help="files probed in parallel (default 4)")
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
    from tqdm import tqdm

    from player.cli import CliError, open_library
    from player.library.scan import scan

    import os

    for folder in args.folders:
        if not os.path.isdir(folder):
            raise CliError(f"no such folder: {folder}" if not os.path.exists(folder) else f"not a folder: {folder}")
    show_bar = sys.stderr.isatty() and not args.quiet
    with open_library(args) as library:
        bar = tqdm(total=0, unit="file", disable=not show_bar, file=sys.stderr, dynamic_ncols=True)

        def progress(done, total, path):
            if bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh() if done % 25 == 0 or done == total else None

        try:
            report = scan(library, args.folders, progress=progress, workers=args.workers)
        finally:
            bar.close()
    print(f"scan: {report.summary()} in {report.seconds:.1f} s")
    for folder, reason in report.folder_errors:
        print(f"  unreadable folder {folder}: {reason}")
    for path, reason in report.failed:
        print(f"  failed {path}: {reason}")
    return 0


def cmd_tracks(args) -> int:
    from player.cli import open_library

    with open_library(args) as library:
        tracks = library.tracks(status=args.status)
    if args.json:
        json.dump([t.as_json() for t in tracks], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    for t in tracks:
        length = "--:--" if t.duration is None else f"{int(t.duration // 60)}:{int(t.duration % 60):02d}"
        who = t.artist or "unknown artist"
        extra = "" if t.status == "ok" else f"  [{t.status}{': ' + t.error if t.error else ''}]"
        print(f"{t.id:6d}  {length:>6}  {who} - {t.title}{extra}")
    if not tracks:
        print("the library is empty: import music with 'python -m player scan DIR'", file=sys.stderr)
    return 0


def cmd_users(args) -> int:
    from player.cli import CliError, open_library

    with open_library(args) as library:
        if args.action == "add":
            if not args.name:
                raise CliError("usage: users add NAME")
            user = library.add_user(args.name)
            print(f"added listener {user.name} (id {user.id})")
            return 0
        if args.name:
            raise CliError(f"unexpected argument {args.name!r}; did you mean 'users add {args.name}'?")
        users = library.users()
    for user in users:
        print(user.name)
    if not users:
        print("no listeners yet: add one with 'python -m player users add NAME'", file=sys.stderr)
    return 0


def cmd_rate(args) -> int:
    from player.cli import open_library

    with open_library(args) as library:
        user = library.user(args.user)
        track = library.resolve_track(args.track)
        library.rate(user.id, track.id, args.stars)
        stars = int(args.stars)
    if stars:
        print(f"{user.name} rated {track.title!s} {'★' * stars}{'☆' * (5 - stars)}")
    else:
        print(f"{user.name}'s rating of {track.title!s} cleared")
    return 0
