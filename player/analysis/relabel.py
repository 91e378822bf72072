"""Relabel a library from its stored results when the label rule changed, without decoding audio again.

The labels (``track_labels``: label, count, probability) are derived from the tagger's probabilities by
the rule in the tagger's ``config.json`` (:mod:`player.analysis.labels`). When that rule changes -- new
thresholds, hidden tags, another cap -- the labels a library holds were written by the old one. Every
analysed track keeps ``analysis.tag_probs`` (the mean over its excerpts) and ``n_excerpts``, which is
enough: :meth:`LabelRule.from_mean` decides the labels from the mean (exactly as the analysis does
under the shipped rule) and estimates each label's count as ``n_excerpts``.

The library records the rule its labels were written with in its ``settings`` table
(:data:`SETTING_KEY`: the tagger's ``name@version`` and :attr:`LabelRule.key`, the rule's version and a
digest of its constants). :func:`relabel_library` does nothing while that matches (a library that
records nothing was labelled with the older rule, version 1: under that rule only the record is
written, since its per-excerpt counts beat any estimate); otherwise it
rewrites the labels of every analysed track of that tagger in **one transaction** (all or nothing)
and records the rule in the same transaction. Ratings, plays and the stored probabilities are not
touched. A track whose stored probabilities are unusable (a damaged blob, no excerpt count) keeps its
labels and is reported with the reason; a track analysed by another tagger is left alone (it is
analysed again under the current models anyway).

The analysis service calls it where an analysis starts (under the library's analysis lock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from player.analysis.labels import OLD_RULE_VERSION, LabelRule

#: The ``settings`` key holding the rule the library's labels were written with.
SETTING_KEY = "analysis.label_rule"


@dataclass(frozen=True)
class RelabelReport:
    """What :func:`relabel_library` did."""

    rule: str  # what the library records now
    previous: str | None  # what it recorded before (None: nothing)
    ran: bool = False  # False: the labels were already written with this rule
    relabelled: int = 0  # tracks whose labels changed
    unchanged: int = 0  # tracks whose labels stayed the same
    other_tagger: int = 0  # results of another tagger, left alone
    skipped: tuple[tuple[int, str], ...] = field(default=())  # (track id, reason)

    def describe(self) -> str:
        if not self.ran:
            return "labels are up to date"
        text = f"labels recomputed: {self.relabelled} tracks changed, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {len(self.skipped)} skipped ({self.skipped[0][1]})"
        return text


def current_rule(models_dir=None, tagger: str | None = None) -> tuple[str, LabelRule, list[str]]:
    """(``name@version`` of the tagger, its label rule, its tag names), read from its model folder (no
    TensorFlow). Raises :class:`player.analysis.registry.ModelError` or
    :class:`player.analysis.labels.LabelRuleError` in words."""
    from player.analysis import registry

    name = tagger or registry.default_name("tags", models_dir)
    folder = registry.models_root(models_dir) / name
    cfg = registry.read_config(folder)
    names = registry.read_labels(folder, int(cfg["n_classes"]))
    return f"{name}@{cfg['version']}", LabelRule.from_config(cfg, len(names)), list(names)


def _stored_probabilities(blob, n_excerpts, n_tags: int) -> tuple[np.ndarray | None, str]:
    """The stored mean, or None and the reason it cannot be used."""
    if blob is None:
        return None, "no tag probabilities stored"
    size = len(blob)
    if size != 4 * n_tags:
        return None, f"its stored tag probabilities are damaged ({size} bytes where {4 * n_tags} belong)"
    probs = np.frombuffer(bytes(blob), dtype=np.float32)
    if not np.all(np.isfinite(probs)) or probs.min() < 0 or probs.max() > 1:
        return None, "its stored tag probabilities are damaged (values outside 0..1)"
    if not isinstance(n_excerpts, int) or n_excerpts < 1:
        return None, "no excerpt count stored"
    return probs, ""


def _same(old: dict, new: dict) -> bool:
    return old.keys() == new.keys() and all(
        old[k][0] == new[k][0] and math.isclose(old[k][1], new[k][1], rel_tol=0, abs_tol=1e-6) for k in new)


def relabel_library(library, models_dir=None, tagger: str | None = None, *, force: bool = False) -> RelabelReport:
    """Recompute every analysed track's labels from its stored results when the library's labels were
    written with another rule (or ``force``); one transaction. See the module's docstring."""
    from player.analysis.registry import parse_version

    tagger_id, rule, names = current_rule(models_dir, tagger)
    recorded = f"{tagger_id} {rule.key}"
    previous = library.db.get_setting(SETTING_KEY)
    if previous == recorded and not force:
        return RelabelReport(rule=recorded, previous=previous)
    if previous is None and rule.version == OLD_RULE_VERSION and not force:
        # Nothing recorded: the labels were written before rules were recorded, i.e. with the older
        # rule, counted per excerpt -- better than any estimate from the mean. Only record it.
        library.db.set_setting(SETTING_KEY, recorded)
        return RelabelReport(rule=recorded, previous=previous)
    relabelled = unchanged = other = 0
    skipped: list[tuple[int, str]] = []
    name, _, version = tagger_id.partition("@")
    with library.db.transaction() as c:
        old: dict[int, dict] = {}
        for track_id, label, count, prob in c.execute("SELECT track_id, label, count, probability FROM track_labels"):
            old.setdefault(int(track_id), {})[label] = (int(count), float(prob))
        rows = c.execute("SELECT track_id, model_version, n_excerpts, tag_probs FROM analysis "
                         "WHERE status = 'ok' ORDER BY track_id").fetchall()
        usable: list[tuple[int, np.ndarray, int]] = []
        for track_id, model_version, n_excerpts, blob in rows:
            parts = parse_version(model_version)
            if not parts or parts[0] != (name, version):
                other += 1
                continue
            probs, reason = _stored_probabilities(blob, n_excerpts, rule.n_tags)
            if probs is None:
                skipped.append((int(track_id), reason))
                continue
            usable.append((int(track_id), probs, int(n_excerpts)))
        computed = rule.from_means(np.array([u[1] for u in usable], np.float32).reshape(-1, rule.n_tags),
                                   [u[2] for u in usable], names)
        for (track_id, _probs, _n), labels in zip(usable, computed):
            if _same(old.get(track_id, {}), labels):
                unchanged += 1
                continue
            c.execute("DELETE FROM track_labels WHERE track_id = ?", (track_id,))
            c.executemany("INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, ?)",
                          [(track_id, label, int(count), float(p)) for label, (count, p) in labels.items()])
            relabelled += 1
        library.db.set_setting(SETTING_KEY, recorded)  # joins this transaction (the helper is re-entrant)
    return RelabelReport(rule=recorded, previous=previous, ran=True, relabelled=relabelled, unchanged=unchanged,
                         other_tagger=other, skipped=tuple(skipped))
