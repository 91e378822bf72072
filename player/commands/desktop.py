"""``install-desktop``: put Tastebuds in this user's application menu (freedesktop desktop entry, the
hicolor icons, the AppStream file) under ``$XDG_DATA_HOME`` (default ``~/.local/share``);
``--uninstall`` takes them out again."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DESKTOP_ID = "tastebuds.desktop"
METAINFO = "io.github.tastebuds.metainfo.xml"
ICON_NAME = "tastebuds"
RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def register(sub, common) -> None:
    p = sub.add_parser("install-desktop", parents=[common],
                       help="add Tastebuds to your desktop's application menu (this user only)")
    p.add_argument("--uninstall", action="store_true", help="remove what install-desktop wrote")
    p.set_defaults(handler=cmd_install_desktop)


def data_home() -> Path:
    """``$XDG_DATA_HOME`` when it is an absolute path (the spec ignores others), else ~/.local/share."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def exec_arg(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key, quoted as the spec asks."""
    arg = arg.replace("%", "%%")
    if not RESERVED.intersection(arg):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{inner}"'


def exec_line(python: str | None = None) -> str:
    """``python -m player`` for this interpreter, escaped for a desktop entry's string value."""
    command = " ".join(exec_arg(a) for a in (python or sys.executable, "-m", "player"))
    return command.replace("\\", "\\\\")


def desktop_entry(template: str, python: str | None = None) -> str:
    """The shipped entry with ``Exec`` running this interpreter (and, from a checkout, in it)."""
    from player.paths import repo_root

    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line(python)}"
        elif line.startswith(("Path=", "TryExec=")):
            continue
        lines.append(line)
        if line.startswith("Exec=") and (repo_root() / "pyproject.toml").is_file():
            # Run from a checkout (`python -m player` finds the package in the working folder).
            lines.append(f"Path={str(repo_root()).replace(chr(92), chr(92) * 2)}")
    return "\n".join(lines) + "\n"


def targets(assets: Path, home: Path) -> list[tuple[Path | None, Path]]:
    """(source file, destination) pairs; source ``None`` is the generated desktop entry."""
    out: list[tuple[Path | None, Path]] = [(None, home / "applications" / DESKTOP_ID)]
    hicolor = home / "icons" / "hicolor"
    pngs = (assets / "hicolor").glob(f"*/apps/{ICON_NAME}.png")
    for png in sorted(pngs, key=lambda p: int(p.parts[-3].split("x")[0])):
        out.append((png, hicolor / png.relative_to(assets / "hicolor")))
    out.append((assets / f"{ICON_NAME}.svg", hicolor / "scalable" / "apps" / f"{ICON_NAME}.svg"))
    out.append((assets / METAINFO, home / "metainfo" / METAINFO))
    return out


def _write(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


def cmd_install_desktop(args) -> int:
    from player.cli import CliError
    from player.paths import assets_dir

    assets = assets_dir()
    home = data_home()
    pairs = targets(assets, home)
    if args.uninstall:
        removed = 0
        for _src, dest in pairs:
            try:
                dest.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise CliError(f"cannot remove {dest}: {exc.strerror or exc}") from None
            print(f"removed {dest}")
            removed += 1
        if not removed:
            print(f"nothing to remove under {home}")
        return 0
    missing = [str(src) for src, _dest in pairs if src is not None and not src.is_file()]
    template = assets / DESKTOP_ID
    if len(pairs) < 4:  # no PNG icons at all
        missing.append(str(assets / "hicolor"))
    if missing or not template.is_file():
        first = missing[0] if missing else str(template)
        raise CliError(f"the player's desktop files are missing ({first}): reinstall the player")
    try:
        for src, dest in pairs:
            data = desktop_entry(template.read_text(encoding="utf-8")).encode() if src is None else src.read_bytes()
            _write(dest, data)
            print(f"wrote {dest}")
    except OSError as exc:
        raise CliError(f"cannot write under {home}: {exc.strerror or exc}") from None
    print("Tastebuds is in your application menu (some desktops show it after the next log-in)")
    return 0
