"""The analysis of tracks with the shipped models (runs inside an analysis worker process).

For each track: decode only the excerpts the models need (seek, never the whole file) → features
(:mod:`player.analysis.features`, constants from each model's ``config.json``) → the 50-tag tagger on
1…``max_excerpts`` excerpts → the genre model on the slices of the centre excerpt. Inputs are batched
across the tracks of a batch, so TensorFlow sees few, large calls. Decoding and feature extraction run
in a small thread pool (soundfile, soxr and numpy release the interpreter lock) while the previous
batch is on the models.

A track that cannot be analysed (unreadable, silent…) becomes a failure with a reason; the others in
its batch carry on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from player.analysis import features as F
from player.analysis.labels import LabelRule, excerpt_offsets
from player.analysis.store import AnalysisResult, Failure, SourceFile

#: Defaults for the tagger's ``analysis`` section in config.json (see docs/analysis.md).
DEFAULT_MAX_EXCERPTS = 3
MIN_SECONDS = 1.0
SILENCE_RMS = 1e-4
TAGGER_BATCH = 4
GENRE_BATCH = 32


PRECISIONS = ("auto", "float32", "bfloat16")

#: Optional packages Keras imports whenever they are installed, for features the analysis never uses
#: (scikit-learn wrappers, pandas slicing, matplotlib and OpenCV drawing): about 1.5 s of CPU of each
#: worker's start-up (docs/analysis.md). :func:`import_keras` hides them while Keras is imported.
KERAS_OPTIONAL = ("sklearn", "pandas", "matplotlib", "cv2")


def import_keras():
    """Import Keras (and its backend) without the optional packages of :data:`KERAS_OPTIONAL`.

    Keras imports each of them in a ``try: ... except ImportError``; while Keras is imported they are
    marked absent, and afterwards they can be imported again as usual (only Keras' own optional features
    for them stay off in this process). Keras imported already is returned as it is."""
    import sys

    if "keras" in sys.modules:
        import keras

        return keras
    hidden = [name for name in KERAS_OPTIONAL if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # an import of it raises ImportError
    try:
        import keras
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return keras


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX); elsewhere it would be emulated,
    and slower than float32."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


class AnalysisError(Exception):
    """One track could not be analysed; the message is the reason stored with it."""


@dataclass
class _Prepared:
    track_id: int
    tagger_x: np.ndarray  # (E, 96, 1366, 1)
    genre_x: np.ndarray  # (S, 128, 128, 1)


@dataclass
class BatchOutcome:
    """What :meth:`Analyser.analyse` made of a batch. ``sources``: per track id, the file as the library
    described it when it was decoded (what :func:`player.analysis.store.save_results` checks)."""

    results: list[AnalysisResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    sources: dict[int, SourceFile] = field(default_factory=dict)


def model_version(genre_model: str | None = None, tagger_model: str | None = None, models_dir=None) -> str:
    """The version string an analysis with these models is stored under (no TensorFlow needed)."""
    from player.analysis import registry

    tagger = tagger_model or registry.default_name("tags", models_dir)
    genre = genre_model or registry.default_name("genre", models_dir)
    root = registry.models_root(models_dir)
    parts = []
    for name in (tagger, genre):
        cfg = registry.read_config(root / name)
        parts.append(f"{name}@{cfg['version']}")
    return "+".join(parts)


def check_model_name(name: str, task: str, models_dir=None) -> None:
    """Raise :class:`registry.ModelError` in words when ``name`` is not an installed ``task`` model."""
    from player.analysis import registry

    infos = {m.name: m for m in registry.available(models_dir)}
    info = infos.get(name)
    if info is None:
        choices = ", ".join(m.name for m in infos.values() if m.task == task) or "none installed"
        raise registry.ModelError(f"no {task} model called {name!r} (choose from: {choices})")
    if info.error:
        raise registry.ModelError(info.error)
    if info.task != task:
        raise registry.ModelError(f"{name!r} is a {info.task} model, not a {task} model")


class Analyser:
    """The tagger and a genre model, loaded once.

    :meth:`open` reads only the models' ``config.json`` (no TensorFlow), so tracks can start decoding
    (:meth:`prefetch`) while :meth:`load_models` imports TensorFlow and builds the networks; :meth:`load`
    does both."""

    def __init__(self, tagger_config: dict, genre_config: dict, version: str, decode_threads: int = 2):
        if tagger_config.get("task") != "tags":
            raise ValueError(f"{tagger_config.get('name')} is not a tagger")
        if genre_config.get("task") != "genre":
            raise ValueError(f"{genre_config.get('name')} is not a genre model")
        self.tagger_frontend = tagger_config["frontend"]
        self.genre_frontend = genre_config["frontend"]
        self.version = version  # what the library stores the results under
        section = tagger_config.get("analysis", {})
        self.max_excerpts = int(section.get("max_excerpts", DEFAULT_MAX_EXCERPTS))
        self.label_rule = LabelRule.from_config(tagger_config)  # which tags become labels, how counted
        self.tagger = self.genre = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, decode_threads), thread_name_prefix="decode")
        self._prefetched: dict[int, tuple[SourceFile, object]] = {}  # track id -> (file decoded, future)

    @classmethod
    def open(cls, genre_model: str | None = None, tagger_model: str | None = None, models_dir=None,
             threads: int | None = None) -> "Analyser":
        """Check the model names and read their configs; the networks are not loaded yet."""
        from player.analysis import registry

        if genre_model:
            check_model_name(genre_model, "genre", models_dir)
        if tagger_model:
            check_model_name(tagger_model, "tags", models_dir)
        root = registry.models_root(models_dir)
        tagger_name = tagger_model or registry.default_name("tags", models_dir)
        genre_name = genre_model or registry.default_name("genre", models_dir)
        tcfg, gcfg = registry.read_config(root / tagger_name), registry.read_config(root / genre_name)
        analyser = cls(tcfg, gcfg, f"{tagger_name}@{tcfg['version']}+{genre_name}@{gcfg['version']}",
                       decode_threads=max(1, threads or 2))
        analyser._names = (tagger_name, genre_name, models_dir)
        return analyser

    def load_models(self, precision: str = "float32") -> "Analyser":
        """Import Keras/TensorFlow and load both networks (seconds; decoding may run meanwhile).

        ``precision``: ``float32``, ``bfloat16`` (Keras' ``mixed_bfloat16`` policy: weights stay float32,
        the arithmetic is bfloat16 -- about 1.4x faster on CPUs with AVX-512 BF16 / AMX, outputs within
        about 0.01) or ``auto`` (bfloat16 where the CPU has it). It sets the process' global Keras policy,
        so it belongs in a worker process."""
        from player.analysis import registry

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.precision = "bfloat16" if precision == "auto" and cpu_has_bf16() else \
            ("float32" if precision == "auto" else precision)
        keras = import_keras()
        if self.precision == "bfloat16":
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        tagger_name, genre_name, models_dir = self._names
        self.tagger = registry.load(tagger_name, models_dir)
        self.genre = registry.load(genre_name, models_dir)
        return self

    @classmethod
    def load(cls, genre_model: str | None = None, tagger_model: str | None = None, models_dir=None,
             threads: int | None = None) -> "Analyser":
        return cls.open(genre_model, tagger_model, models_dir, threads).load_models()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- per track, off the models --------------------------------------------------------------
    def prepare(self, track) -> _Prepared:
        """Decode the excerpts of one track and compute both models' inputs. Raises AnalysisError.

        The centre excerpt is decoded once at the file's own rate and resampled for each model."""
        tcfg, gcfg = self.tagger_frontend, self.genre_frontend
        tag_seconds = float(tcfg["excerpt_seconds"])
        try:
            source = F.open_mono(track.path)  # one open and one length check for every excerpt
        except F.AudioDecodeError as exc:
            raise AnalysisError(f"cannot decode: {exc}") from None
        with source:
            try:
                centre = source.read(max(float(gcfg["excerpt_seconds"]), tag_seconds), "centre",
                                     duration=track.duration, checked=True)  # measured at import
            except F.AudioDecodeError as exc:
                raise AnalysisError(f"cannot decode: {exc}") from None
            audio, sr = centre.audio, centre.samplerate
            if centre.duration is not None and centre.duration < MIN_SECONDS or len(audio) < MIN_SECONDS * sr:
                raise AnalysisError(f"too short to analyse ({len(audio) / sr:.1f} s of audio)")
            if float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) < SILENCE_RMS:
                raise AnalysisError("silent: no sound to analyse in the middle of the track")
            genre_x = F.features(F.to_model_rate(audio, sr, gcfg), gcfg)
            tag_audio = [F.to_model_rate(audio, sr, tcfg)]
            duration = centre.duration or track.duration or 0.0
            offsets = excerpt_offsets(duration, tag_seconds, self.max_excerpts, with_centre=True)
            if len(offsets) > 1:  # a long song: more excerpts, away from the centre one already decoded
                centre_start = (duration - tag_seconds) / 2.0
                for off in offsets:
                    if abs(off - centre_start) < tag_seconds / 2.0:
                        continue
                    try:
                        more = source.read(tag_seconds, off, duration=duration, checked=True)
                    except F.AudioDecodeError:
                        break  # keep what we have: the centre decoded fine
                    tag_audio.append(F.to_model_rate(more.audio, more.samplerate, tcfg))
        tagger_x = np.concatenate([F.features(a, tcfg) for a in tag_audio])
        return _Prepared(track.id, tagger_x, genre_x)

    # -- a batch ---------------------------------------------------------------------------------
    def prefetch(self, tracks: list) -> None:
        """Start decoding ``tracks`` now (the next batch) so that it overlaps the models' work on this one."""
        for t in tracks:
            if t.id not in self._prefetched:
                self._prefetched[t.id] = (SourceFile.of(t), self._pool.submit(self.prepare, t))

    def _decoding(self, track) -> tuple[SourceFile, object]:
        """The prefetched decode of ``track`` when it is of the same file, else a new one."""
        source = SourceFile.of(track)
        ahead = self._prefetched.pop(track.id, None)
        if ahead is not None and ahead[0] == source:
            return ahead
        if ahead is not None:
            ahead[1].cancel()
        return source, self._pool.submit(self.prepare, track)

    def analyse(self, tracks: list, cancel: Callable[[], bool] | None = None, next_tracks: list = ()
                ) -> BatchOutcome:
        """Analyse ``tracks``: results, failures with reasons, and the files they were decoded from.

        ``next_tracks`` (the following batches) start decoding while this batch is on the models."""
        out = BatchOutcome()
        prepared: list[_Prepared] = []
        futures = [(t, *self._decoding(t)) for t in tracks]
        stale = set(self._prefetched) - {t.id for t in next_tracks}
        for track_id in stale:  # prefetched but no longer wanted
            self._prefetched.pop(track_id)[1].cancel()
        self.prefetch(next_tracks)  # the pool is FIFO: these decode while this batch is on the models
        for track, source, fut in futures:
            if cancel and cancel():
                for _t, _s, f in futures:
                    f.cancel()
                return BatchOutcome()
            out.sources[track.id] = source
            try:
                prepared.append(fut.result())
            except AnalysisError as exc:
                out.failures.append(Failure(track.id, str(exc)))
            except MemoryError:
                out.failures.append(Failure(track.id, "not enough memory to decode this file"))
            except Exception as exc:  # never fatal for the batch
                out.failures.append(Failure(track.id, f"analysis failed: {type(exc).__name__}: {_first_line(exc)}"))
        if not prepared:
            return out
        # Small inference batches keep the worker's memory flat: one tagger excerpt's first conv block
        # alone is 96 x 1366 x 64 floats (33 MB).
        tag_probs = self.tagger.predict(np.concatenate([p.tagger_x for p in prepared]), batch_size=TAGGER_BATCH)
        genre_probs, genre_emb = self.genre.predict_with_embedding(np.concatenate([p.genre_x for p in prepared]),
                                                                   batch_size=GENRE_BATCH)
        ti = gi = 0
        for p in prepared:
            e, s = len(p.tagger_x), len(p.genre_x)
            tp, gp, ge = tag_probs[ti:ti + e], genre_probs[gi:gi + s], genre_emb[gi:gi + s]
            ti, gi = ti + e, gi + s
            labels = self.label_rule.count(tp, self.tagger.labels)
            gp = gp.astype(np.float64).mean(axis=0)
            out.results.append(AnalysisResult(  # (bfloat16 softmax rows sum to 1 only within ~0.01)
                track_id=p.track_id, tag_probs=tp.mean(axis=0), genre_probs=(gp / gp.sum()).astype(np.float32),
                embedding=ge.mean(axis=0), labels=labels, n_excerpts=e))
        return out


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else ""

