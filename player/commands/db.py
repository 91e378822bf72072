"""``python -m player db check | backup [FILE] | recover [FILE]``: look after the library file."""

from __future__ import annotations

import sys

from player.commands.common import CliError, db_path, safe_text


def register(sub, common) -> None:
    p = sub.add_parser("db", parents=[common], help="check, back up or recover the library file",
                       description="Look after the library file: 'check' reads all of it and says which "
                       "parts are damaged; 'backup [FILE]' copies it (default: the backups/ folder next to "
                       "it); 'recover [FILE]' copies what is readable into a fresh library (into FILE, or "
                       "in place of the library, which is set aside in backups/).")
    p.add_argument("action", choices=["check", "backup", "recover"])
    p.add_argument("file", nargs="?", metavar="FILE", help="where the backup or the recovered library goes")
    p.set_defaults(handler=cmd_db)


def cmd_db(args) -> int:
    from player.library import maintenance

    path = db_path(args)
    if args.action == "check":
        if args.file:
            raise CliError("'db check' takes no FILE (it checks the library named by --db)")
        report = maintenance.check(path)
        for line in report.lines():
            print(safe_text(line))
        from player.library.leftovers import check_leftovers

        for notice in check_leftovers(path, clean=False):
            print(f"note: {safe_text(notice)}")
        return 0 if report.sound else 3
    if args.action == "backup":
        dest, sound = maintenance.backup(path, args.file)
        print(f"backed up {safe_text(path)} to {safe_text(dest)}")
        if not sound:
            print("warning: the library is damaged and so is this copy; 'python -m player db recover' "
                  "rescues what is readable", file=sys.stderr)
            return 3
        return 0
    report = maintenance.recover(path, args.file)
    for line in report.lines():
        print(safe_text(line))
    if report.set_aside is not None:
        print(f"recovered {report.copied:,} rows into a fresh library at {safe_text(path)}; the damaged file "
              f"was kept as {safe_text(report.set_aside)}")
    else:
        print(f"recovered {report.copied:,} rows into {safe_text(report.dest)} (the library {safe_text(path)} "
              "was not changed)")
    return 0
