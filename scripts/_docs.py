"""Writing measured tables into the docs: the text between two marker comments is replaced."""

from __future__ import annotations

import re
from pathlib import Path


def write_block(doc: Path, start: str, end: str, body: str, *, heading: str = "") -> None:
    """Put ``start``, ``body`` and ``end`` into ``doc`` in place of what stands between the markers now,
    or at the end (under ``heading``, when given) the first time."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"{start}\n{end}\n"
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + (f"{heading}\n\n" if heading else "") + block + "\n"
    doc.write_text(text, encoding="utf-8")
