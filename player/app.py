"""Wires the core to the window. The only module outside ``player/ui`` that may import Qt."""

from __future__ import annotations

from pathlib import Path


def run_gui(db_path: Path) -> int:
    from player.ui.main import run

    return run(db_path)
