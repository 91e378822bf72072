"""From a mood word to tag labels, for the mood query (seed 002: "a special label added as a query").

The mood session's :func:`player.mood.mapping.labels_for` is the user-editable mapping and wins when
it is installed; this small built-in table is the fallback. It names labels of both tagger
vocabularies in use (the MSD/last.fm top-50 of Choi et al., e.g. ``happy``, ``Mellow``, ``party``,
and the MagnaTagATune top-50, e.g. ``soft``, ``quiet``, ``fast``); labels a library does not have are
simply not used.
"""

from __future__ import annotations

BUILTIN_MOODS: dict[str, list[str]] = {
    "happy": ["happy", "party", "dance", "catchy", "pop", "fast", "beat", "funk"],
    "sad": ["sad", "Mellow", "beautiful", "slow", "soft", "quiet", "acoustic"],
    "angry": ["metal", "heavy metal", "hard rock", "punk", "loud", "fast", "drums"],
    "calm": ["chill", "chillout", "Mellow", "ambient", "easy listening", "soft", "quiet", "slow", "new age"],
    "relaxed": ["chill", "chillout", "Mellow", "ambient", "easy listening", "soft", "quiet", "slow"],
    "energetic": ["dance", "party", "electronic", "House", "electro", "techno", "fast", "beat", "beats"],
    "excited": ["dance", "party", "electro", "House", "fast", "beat", "loud"],
    "romantic": ["sexy", "beautiful", "soul", "rnb", "Mellow", "soft"],
    "surprise": ["experimental", "weird", "electronica", "electro"],
    "fear": ["ambient", "experimental", "weird", "instrumental", "quiet"],
    "disgust": ["punk", "metal", "hard rock", "loud"],
    "focus": ["instrumental", "ambient", "classical", "piano", "no vocals", "quiet"],
    "neutral": [],
}
ALIASES = {
    "joy": "happy",
    "cheerful": "happy",
    "sadness": "sad",
    "melancholy": "sad",
    "anger": "angry",
    "mad": "angry",
    "relax": "relaxed",
    "chill": "calm",
    "peaceful": "calm",
    "energy": "energetic",
    "party": "energetic",
    "surprised": "surprise",
    "scared": "fear",
    "afraid": "fear",
    "disgusted": "disgust",
    "love": "romantic",
    "concentrate": "focus",
}


def builtin_labels_for(mood: str) -> list[str] | None:
    key = (mood or "").strip().casefold()
    key = ALIASES.get(key, key)
    return list(BUILTIN_MOODS[key]) if key in BUILTIN_MOODS else None


def known_moods() -> list[str]:
    return sorted(BUILTIN_MOODS)


def labels_for_mood(mood: str) -> list[str] | None:
    """Labels for a mood or emotion word: the mood module's mapping if installed, else the built-in
    table; ``None`` when neither knows the word (an empty list: a mood the user turned off)."""
    try:
        from player.mood import mapping  # the mood session's user-editable mapping
    except Exception:  # not installed yet, or broken: fall back to ours
        mapping = None
    if mapping is not None:
        try:
            found = mapping.labels_for(mood)
            if found:
                return [str(x) for x in found]
            if str(mood).strip().lower() in {str(m).lower() for m in mapping.moods()}:
                return []  # a mood the mapping knows but that has no labels (turned off)
        except Exception:  # a broken user mapping file must not stop recommendations
            pass
    return builtin_labels_for(mood)
