"""What every CLI subcommand shares: the error it raises, where the library is, safe printing.

The dependency runs one way: ``player.cli`` → ``player.commands.*`` → this module. Light imports only:
the library is imported when a command opens it.
"""

from __future__ import annotations

import re
from pathlib import Path

from player.errors import PlayerError, UsageError


class CliError(UsageError):
    """A user-facing error: printed as one line, exit status 2 (or ``code``)."""


def db_path(args) -> Path:
    """The library file named by ``--db``, else ``$PLAYER_DB``, else the data folder's."""
    from player.paths import default_db_path

    return Path(getattr(args, "db", None) or default_db_path())


def open_library(args):
    """The library named by ``--db`` (or the default); a :class:`PlayerError` in words if it cannot be."""
    from player.library import Library

    return Library(db_path(args))


# C0 controls, DEL, C1 controls, the Unicode line/paragraph separators, and lone surrogates (a file name
# that is not UTF-8): none of them may reach a terminal as they are.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SPACE = {"\t", "\n", "\r", "\v", "\f", "\u2028", "\u2029"}


def _escape(match: re.Match) -> str:
    ch = match.group()
    if ch in _SPACE:
        return " "
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value) -> str:
    """``value`` as text safe for one line of a terminal: line breaks and tabs become spaces, every
    other control character (ESC, C0/C1, DEL) and undecodable byte becomes a visible escape (``\\x1b``).
    ``None`` is the empty string. For human-readable lines only: JSON output keeps the exact value."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_escape, text)


__all__ = ["CliError", "PlayerError", "db_path", "open_library", "safe_text"]
