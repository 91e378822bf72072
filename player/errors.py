"""The player's one exception family: every problem a person should read is a :class:`PlayerError`.

The CLI (``player.cli``) and the window catch ``PlayerError`` and show ``str(exc)`` as it is: one line,
in words, never a Python repr or a library's internal text. Modules raise the most specific subclass.
No imports here: everything may import this module.
"""

from __future__ import annotations


class PlayerError(Exception):
    """A problem explained in one line. ``code`` is the CLI's exit status for it."""

    code = 2

    def __init__(self, message: str = "", code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class UsageError(PlayerError):
    """A mistake on the command line (a bad option, a missing argument)."""


class LibraryError(PlayerError, ValueError):
    """A user mistake or a missing thing in the library: unknown listener, bad star count, no such track."""


class DatabaseError(PlayerError, RuntimeError):
    """The library file cannot be used as asked: locked, full disk, read-only, newer schema."""


class DiskFullError(DatabaseError):
    """The disk holding the library is full: the change in progress was not saved."""


class BusyError(DatabaseError):
    """Another program holds the library's write lock for too long."""


class CorruptLibraryError(DatabaseError):
    """The library file is damaged (or is not a library at all). Nothing is written to it; the message
    says what to do (``python -m player db check | backup | recover``)."""

    code = 3


class ImageError(PlayerError):
    """An image that cannot be used: unreadable, not an image, or too large to decode safely."""


__all__ = ["PlayerError", "UsageError", "LibraryError", "DatabaseError", "DiskFullError", "BusyError",
           "CorruptLibraryError", "ImageError"]
