"""The library: SQLite store (:mod:`.db`), listeners/ratings/plays (:mod:`.store`), import (:mod:`.scan`)."""

from player.library.db import Database, DatabaseError
from player.library.store import Library, LibraryError, Track, User

__all__ = ["Database", "DatabaseError", "Library", "LibraryError", "Track", "User"]
