"""The first day: an empty library offers to import the desktop's music folder.

The music folder is the desktop's own (``XDG_MUSIC_DIR`` in ``$XDG_CONFIG_HOME/user-dirs.dirs``, what
``xdg-user-dir MUSIC`` prints), else ``~/Music``; it is offered only when it exists. The offer says
what the player will do with it.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from PySide6.QtCore import QObject

PROMISE = "The player analyses your music in the background; nothing leaves this computer."


def _home() -> Path:
    return Path(os.environ.get("HOME") or os.path.expanduser("~"))


def music_folder(environ=os.environ) -> Path | None:
    """The desktop's music folder when it exists, else None."""
    home = Path(environ.get("HOME") or _home())
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    chosen = None
    try:
        for line in (config / "user-dirs.dirs").read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("XDG_MUSIC_DIR="):
                value = shlex.split(line.split("=", 1)[1])[0] if line.split("=", 1)[1] else ""
                value = value.replace("$HOME", str(home))
                if value and Path(value) != home:  # pointing at the home folder: "not set"
                    chosen = Path(value)
    except (OSError, ValueError, IndexError):
        pass
    for candidate in (chosen, home / "Music"):
        if candidate is not None and candidate.is_dir():
            return candidate
    return None


def offer_text(folder: Path) -> str:
    shown = str(folder).replace(str(_home()), "~", 1) if str(folder).startswith(str(_home())) else str(folder)
    return f"Your library is empty. Import your music folder, {shown}? {PROMISE}"


class FirstRun(QObject):
    """When the library has loaded empty, offers the music folder (found in a worker) as a notice."""

    def __init__(self, ctx, imports, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.imports = imports
        self.folder: Path | None = None
        self.offered = False
        ctx.model.loaded.connect(self._loaded)

    def _loaded(self) -> None:
        if self.offered or self.ctx.model.total_count() > 0 or self.imports.importing:
            return
        self.offered = True
        self.ctx.pools.media.submit(music_folder, on_result=self._offer)

    def _offer(self, folder: Path | None) -> None:
        if folder is None or self.ctx.model.total_count() > 0:
            if folder is None:
                self.ctx.notify(f"Your library is empty: import a folder of music (File ▸ Import folder) or drop "
                                f"one on the window. {PROMISE}", "info")
            return
        self.folder = folder
        self.ctx.notify(offer_text(folder), "info",
                        [(f"Import {folder.name}", lambda: self.imports.import_folders([str(folder)]))])
