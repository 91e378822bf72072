"""Command-line interface: ``python -m player [SUBCOMMAND] …`` (no subcommand opens the window).

Every subcommand accepts ``--db PATH`` anywhere on its line. A user mistake is one line on stderr and
exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from player.commands.common import CliError, db_path, open_library, safe_text  # noqa: F401 - re-exported
from player.errors import PlayerError


def _common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="library database file (default: $PLAYER_DB or the user data folder)",
    )
    return common


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, not the usage block twice
        raise CliError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    from player.commands import analysis, db, desktop, duplicates, library, mood, play, playlist, recommend

    common = _common_parser()
    parser = _Parser(
        prog="python -m player",
        description="A music player that listens to your music and learns your taste.",
        parents=[common],
    )
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (library, play, analysis, recommend, duplicates, playlist, mood, desktop, db):
        module.register(sub, common)
    gui = sub.add_parser("gui", parents=[common], help="open the player window (the default)")
    gui.set_defaults(handler=_run_gui)
    return parser


def _run_gui(args) -> int:
    from player.app import run_gui

    return run_gui(db_path(args))


def _db_named(argv: list[str]) -> str:
    """The library a command line names (for a message), without creating any folder."""
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--db="):
            return arg[5:]
    try:
        from player.paths import default_db_path

        return str(default_db_path())
    except PlayerError:
        return "library.db"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from player.paths import redirect_library_files

        redirect_library_files()  # before anything that may import Keras or Matplotlib
        parser = build_parser()
        args = parser.parse_args(argv)
        handler = args.handler or _run_gui
        return int(handler(args) or 0)
    except PlayerError as exc:
        print(f"error: {safe_text(exc)}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `python -m player tracks | head`: the reader went away; that is fine.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:
        import sqlite3

        if not isinstance(exc, sqlite3.Error):
            raise
        # code that read the library's connection directly: the library's one translation says it
        from player.library.db import _explain

        err = _explain(exc, _db_named(argv))
        print(f"error: {safe_text(err)}", file=sys.stderr)
        return err.code
