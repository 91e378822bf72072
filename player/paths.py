"""Where the player keeps its data (platformdirs), with overrides for tests and power users."""

from __future__ import annotations

import os
from pathlib import Path

from player import APP_NAME


def data_dir() -> Path:
    """The user data folder (created on demand). ``PLAYER_DATA_DIR`` overrides it."""
    override = os.environ.get("PLAYER_DATA_DIR")
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _folder(kind: str) -> Path:
    """``PLAYER_DATA_DIR/<kind>`` when that is set, else the platform's user folder of that kind."""
    override = os.environ.get("PLAYER_DATA_DIR")
    if override:
        path = Path(override) / kind
    else:
        import platformdirs

        path = Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """The settings folder (created on demand): ``PLAYER_DATA_DIR/config`` when that is set."""
    return _folder("config")


def cache_dir() -> Path:
    """The cache folder (created on demand): ``PLAYER_DATA_DIR/cache`` when that is set."""
    return _folder("cache")


def default_db_path() -> Path:
    """``--db`` beats ``PLAYER_DB``, which beats the data folder's ``library.db``."""
    override = os.environ.get("PLAYER_DB")
    if override:
        return Path(override)
    return data_dir() / "library.db"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """The shipped models (``models/`` next to the package); ``PLAYER_MODELS_DIR`` overrides."""
    override = os.environ.get("PLAYER_MODELS_DIR")
    return Path(override) if override else repo_root() / "models"


def assets_dir() -> Path:
    """Icons, the desktop entry and the AppStream file: ``assets/`` next to the package in a checkout
    or an editable install, ``<prefix>/share/tastebuds/assets`` from a wheel; ``PLAYER_ASSETS_DIR``
    overrides."""
    override = os.environ.get("PLAYER_ASSETS_DIR")
    if override:
        return Path(override)
    here = repo_root() / "assets"
    if here.is_dir():
        return here
    import sys
    import sysconfig

    # A wheel's data files land in the install scheme's "data" folder (the venv, ~/.local, /usr …).
    package = Path(__file__).resolve().parent
    candidates = [Path(sysconfig.get_paths()["data"]), Path(sys.prefix), *package.parents]
    for base in candidates:
        path = base / "share" / "tastebuds" / "assets"
        if path.is_dir():
            return path
    return here
