"""The one mood → tags table: from an emotion or a named mood to labels of the tagger's vocabulary.

The mood monitor, the recommender (``next --mood``) and the CLI all read it. Two policies:

* ``match`` — music that matches the mood (happy → happy, catchy, party, dance; sad → sad, mellow…)
* ``cheer_up`` — music that lifts it (sad → happy, catchy, easy listening…; angry → chill, mellow…)

The built-in table (:data:`MOODS`) names only tags of the shipped tagger (``models/tagger/labels.json``).
Besides the camera's seven emotions it has moods to ask for by name (calm, relaxed, energetic,
excited, romantic, focus); :data:`ALIASES` are other words for them (joy → happy, anger → angry…).
A user file ``mood_mapping.json`` in the user data folder (``player.paths.data_dir()``) overrides it
key by key::

    {
      "match":    {"sad": ["sad", "slow", "piano"], "focused": ["instrumental", "ambient"]},
      "cheer_up": {"sad": ["happy", "dance"]}
    }

Keys are emotions (angry, disgust, fear, happy, sad, surprise, neutral) or any mood name of your
own (usable as ``--mood focused``); values are lists of tagger labels. Keys you leave out keep the
built-in labels; an empty list turns a mood off.

The recommender reads a mood through the songs' stored tag probabilities (a direction in the tag block of
the similarity space, docs/recommender.md "Mood"), so every tag of the tagger works here, also the many
that the label rule never shows as a song's label (happy, catchy, party, dance, …); smart playlists'
``mood:X`` match such a tag when it is among a song's 5 most probable tags (docs/playlists.md).

The labels must be tags of the tagger's vocabulary (``models/tagger/labels.json``). When that file
exists, labels are matched against it case-insensitively (and returned in its spelling); a label
that is not in it is dropped with a warning — never an error. ``check_mapping()`` (and
``python -m player mood --mapping``) shows the effective table and the warnings.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("player.mood")

POLICIES = ("match", "cheer_up")
MAPPING_FILE_NAME = "mood_mapping.json"

#: mood: (labels that match it, labels that lift it; None: the same as those that match it)
MOODS: dict[str, tuple[str, str | None]] = {
    "happy": ("happy, catchy, party, dance", None),
    "sad": ("sad, mellow, slow, quiet", "happy, catchy, easy listening, beautiful"),
    "angry": ("loud, fast, metal, punk, drums", "chill, mellow, easy listening, quiet"),
    "disgust": ("loud, punk, weird", "happy, catchy, chill"),
    "fear": ("ambient, quiet, experimental, weird", "beautiful, easy listening, mellow"),
    "surprise": ("catchy, electronic, fast, dance", "happy, catchy, dance"),
    "neutral": ("chill, easy listening, mellow", "happy, catchy, chill"),
    "calm": ("chill, mellow, ambient, easy listening, quiet, slow, new age", None),
    "relaxed": ("chill, mellow, ambient, easy listening, quiet, slow", None),
    "energetic": ("dance, party, electronic, house, techno, fast, beat", None),
    "excited": ("dance, party, house, fast, beat, loud", None),
    "romantic": ("sexy, beautiful, soul, mellow", None),
    "focus": ("instrumental, ambient, classical, piano, quiet", None),
}
#: other words for a mood (never a tag's name: ``--mood chill`` is the tag)
ALIASES = {
    "joy": "happy", "cheerful": "happy", "sadness": "sad", "melancholy": "sad", "anger": "angry",
    "mad": "angry", "relax": "relaxed", "peaceful": "calm", "energy": "energetic", "surprised": "surprise",
    "scared": "fear", "afraid": "fear", "disgusted": "disgust", "love": "romantic", "concentrate": "focus",
}


def _split(labels: str) -> list[str]:
    return [x.strip() for x in labels.split(",") if x.strip()]


DEFAULT_MAPPING: dict[str, dict[str, list[str]]] = {
    "match": {mood: _split(match) for mood, (match, _lift) in MOODS.items()},
    "cheer_up": {mood: _split(match if lift is None else lift) for mood, (match, lift) in MOODS.items()},
}


def normalize_policy(policy: str | None) -> str:
    p = (policy or "match").strip().lower().replace("-", "_").replace(" ", "_")
    if p in ("cheerup", "cheer"):
        p = "cheer_up"
    if p not in POLICIES:
        raise ValueError(f"unknown mood policy {policy!r}: use 'match' or 'cheer_up'")
    return p


def mapping_path() -> Path:
    from player.paths import data_dir

    return data_dir() / MAPPING_FILE_NAME


def vocabulary_path() -> Path:
    from player.paths import models_dir

    return models_dir() / "tagger" / "labels.json"


def _parse_vocabulary(data) -> list[str]:
    if isinstance(data, dict):
        for key in ("labels", "tags", "vocabulary", "classes"):
            if key in data:
                return _parse_vocabulary(data[key])
        try:  # {"0": "rock", "1": "pop", …}
            return [str(data[k]) for k in sorted(data, key=int)]
        except (TypeError, ValueError):
            return [str(k) for k in data]
    if isinstance(data, list):
        out = []
        for item in data:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and ("name" in item or "label" in item):
                out.append(str(item.get("name", item.get("label"))))
        return out
    return []


def load_vocabulary(path: Path | None = None) -> list[str] | None:
    """The tagger's labels, or None when the tagger has no labels.json (then nothing is filtered)."""
    path = Path(path) if path is not None else vocabulary_path()
    if not path.is_file():
        return None
    try:
        labels = _parse_vocabulary(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        log.warning("cannot read the tagger vocabulary %s: %s; mood labels are not checked", path, exc)
        return None
    return labels or None


@dataclass
class MappingReport:
    source: str  # "built-in" or the user file's path
    mapping: dict[str, dict[str, list[str]]]  # effective, after filtering
    warnings: list[str] = field(default_factory=list)
    vocabulary: str | None = None  # the vocabulary file's path, None when there is none
    vocabulary_size: int = 0

    def format(self) -> str:
        lines = [f"mood mapping: {self.source}"]
        if self.vocabulary:
            lines.append(f"tagger vocabulary: {self.vocabulary} ({self.vocabulary_size} labels)")
        else:
            lines.append("tagger vocabulary: none yet (models/tagger/labels.json); labels not checked")
        for policy in POLICIES:
            lines.append(f"{policy}:")
            for mood, labels in self.mapping.get(policy, {}).items():
                lines.append(f"  {mood:<9} -> {', '.join(labels) if labels else '(nothing)'}")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def _merge_user(base: dict, user, source: str, warnings: list[str]) -> dict:
    if not isinstance(user, dict):
        warnings.append(f"{source}: expected a JSON object with 'match' and/or 'cheer_up'; ignored")
        return base
    for key, table in user.items():
        try:
            policy = normalize_policy(key)
        except ValueError:
            if key not in ("comment", "_comment", "version"):
                warnings.append(f"{source}: unknown policy {key!r} ignored (use 'match' or 'cheer_up')")
            continue
        if not isinstance(table, dict):
            warnings.append(f"{source}: {key!r} must map moods to lists of labels; ignored")
            continue
        for mood, labels in table.items():
            if isinstance(labels, str):
                labels = [labels]
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                warnings.append(f"{source}: {policy}.{mood} must be a list of labels; ignored")
                continue
            base[policy][str(mood).strip().lower()] = [x.strip() for x in labels if x.strip()]
    return base


_lock = threading.Lock()
_cache: dict = {}
_warned: set = set()


def _stamp(path: Path):
    try:
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def check_mapping(mapping_file: Path | None = None, vocabulary_file: Path | None = None) -> MappingReport:
    """The effective mapping (built-in, overridden by the user file), filtered against the tagger
    vocabulary, with a warning for each problem. Never raises for a bad user file."""
    mpath = Path(mapping_file) if mapping_file is not None else mapping_path()
    vpath = Path(vocabulary_file) if vocabulary_file is not None else vocabulary_path()
    key = (str(mpath), _stamp(mpath), str(vpath), _stamp(vpath))
    with _lock:
        cached = _cache.get("report")
        if cached is not None and cached[0] == key:
            return cached[1]
    warnings: list[str] = []
    mapping = copy.deepcopy(DEFAULT_MAPPING)
    source = "built-in"
    if mpath.is_file():
        source = str(mpath)
        try:
            user = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            warnings.append(f"cannot read {mpath}: {exc}; using the built-in mapping")
            source = "built-in"
        else:
            mapping = _merge_user(mapping, user, mpath.name, warnings)
    vocab = load_vocabulary(vpath)
    if vocab:
        lookup = {}
        for label in vocab:
            lookup.setdefault(label.lower(), label)
        for policy, table in mapping.items():
            for mood, labels in table.items():
                kept = []
                for label in labels:
                    hit = lookup.get(label.lower())
                    if hit is None:
                        warnings.append(f"{policy}.{mood}: label {label!r} is not in the tagger vocabulary; dropped")
                    elif hit not in kept:
                        kept.append(hit)
                table[mood] = kept
    report = MappingReport(source=source, mapping=mapping, warnings=warnings,
                           vocabulary=str(vpath) if vocab else None, vocabulary_size=len(vocab or ()))
    with _lock:
        _cache["report"] = (key, report)
        for w in warnings:
            if w not in _warned:
                _warned.add(w)
                log.warning("mood mapping: %s", w)
    return report


def lookup(emotion_or_mood: str | None, policy: str = "match") -> list[str] | None:
    """Tagger labels for an emotion, a mood name or an alias under ``policy``; a tagger label stands
    for itself (``--mood chill``). ``None``: a word the table does not know (``[]``: a mood that is
    turned off)."""
    if not emotion_or_mood:
        return None
    policy = normalize_policy(policy)
    name = str(emotion_or_mood).strip().lower()
    report = check_mapping()
    table = report.mapping[policy]
    for key in (name, ALIASES.get(name)):
        if key in table:
            return list(table[key])
    vocab = load_vocabulary()
    if vocab:
        for label in vocab:
            if label.lower() == name:
                return [label]
        return None
    # no vocabulary yet: accept a label the table uses somewhere
    known = {label for t in report.mapping.values() for labels in t.values() for label in labels}
    return [name] if name in known else None


def labels_for(emotion_or_mood: str | None, policy: str = "match") -> list[str]:
    """Tagger labels for an emotion or mood name under ``policy`` (``match`` or ``cheer_up``).

    An unknown name that is itself a tagger label gives just that label (``--mood chill``); any
    other unknown name, or None, gives ``[]``.
    """
    if not emotion_or_mood:
        return []
    return lookup(emotion_or_mood, policy) or []


def moods(policy: str = "match") -> list[str]:
    """The mood names the mapping knows (the seven emotions plus the user's own)."""
    return list(check_mapping().mapping[normalize_policy(policy)])
