"""Mood words for the recommender's mood query: the one table lives in :mod:`player.mood.mapping`.

Kept so that callers of ``labels_for_mood`` / ``known_moods`` keep working; new code imports
``lookup`` and ``moods`` from :mod:`player.mood.mapping`.
"""

from __future__ import annotations


def labels_for_mood(mood: str) -> list[str] | None:
    """Labels for a mood or emotion word (``[]``: a mood turned off; ``None``: not a mood)."""
    from player.mood.mapping import lookup

    return lookup(mood)


def known_moods() -> list[str]:
    from player.mood.mapping import moods

    return sorted(moods())
