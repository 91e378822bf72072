"""Where the player keeps its data, configuration and cache (platformdirs), with overrides for tests
and power users.

``PLAYER_DATA_DIR`` moves all three: the data in it, the configuration in ``PLAYER_DATA_DIR/config``,
the cache in ``PLAYER_DATA_DIR/cache``. :func:`redirect_library_files` points the libraries the player
uses (Keras, Matplotlib, and anything following XDG's cache folder) at the player's cache, so nothing
is written elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from player import APP_NAME


def _folder(kind: str, sub: str | None) -> Path:
    override = os.environ.get("PLAYER_DATA_DIR")
    if override:
        path = Path(override) if sub is None else Path(override) / sub
    else:
        import platformdirs

        path = Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from player.errors import PlayerError

        reason = "a file is in the way" if isinstance(exc, (FileExistsError, NotADirectoryError)) else \
            (exc.strerror or type(exc).__name__).lower()
        raise PlayerError(f"cannot create the player's {kind} folder {path}: {reason}") from None
    return path


def data_dir() -> Path:
    """The user data folder (created on demand). ``PLAYER_DATA_DIR`` overrides it."""
    return _folder("data", None)


def config_dir() -> Path:
    """The user configuration folder (created on demand): ``PLAYER_DATA_DIR/config`` when set."""
    return _folder("config", "config")


def cache_dir() -> Path:
    """The user cache folder (created on demand): ``PLAYER_DATA_DIR/cache`` when set."""
    return _folder("cache", "cache")


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


_REDIRECTED: dict[str, str] = {}  # what redirect_library_files() set, so a later call may move it


def redirect_library_files() -> dict[str, str]:
    """Point the libraries' own files at the player's cache: ``KERAS_HOME`` (keras.json),
    ``MPLCONFIGDIR`` (Matplotlib's font cache) and, when ``PLAYER_DATA_DIR`` is set, ``XDG_CACHE_HOME``
    (fontconfig, Mesa and the like). Set in the environment, so child processes inherit it; a value the
    user set is kept. Called first thing by the CLI's main (the window too) and by child processes.
    Returns the variables it set."""
    from player.errors import PlayerError

    try:
        cache = cache_dir()
    except PlayerError:
        return {}  # said again, in words, by whatever needs the folder
    wanted = {"KERAS_HOME": cache / "keras", "MPLCONFIGDIR": cache / "matplotlib"}
    if os.environ.get("PLAYER_DATA_DIR"):
        wanted["XDG_CACHE_HOME"] = cache / "xdg"
    done = {}
    for name, folder in wanted.items():
        current = os.environ.get(name)
        if current and current != _REDIRECTED.get(name):
            continue  # the user's own choice
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        os.environ[name] = _REDIRECTED[name] = done[name] = str(folder)
    return done
