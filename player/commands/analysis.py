"""Analysis subcommands: analyse, export, show."""

from __future__ import annotations

import sys


def register(sub, common) -> None:
    p = sub.add_parser("analyse", aliases=["analyze"], parents=[common],
                       help="analyse every track without a current analysis (tags, genres, embedding), "
                            "then measure the loudness of those not measured")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per core, at most 4 and one per 1.5 GB of free memory)")
    p.add_argument("--model", metavar="NAME", default=None,
                   help="genre model from the registry (default: cnn_lstm)")
    p.add_argument("--batch", type=int, default=8, help="tracks per batch (default 8)")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="arithmetic of the models (default auto: bfloat16 where the CPU has it natively, "
                        "about 1.4x faster; results within ~0.01 of float32)")
    p.add_argument("--no-loudness", dest="loudness", action="store_false",
                   help="skip the loudness pass (EBU R128 loudness and true peak of every track not measured yet)")
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(handler=cmd_analyse)

    p = sub.add_parser(
        "export", parents=[common], help="export song vectors and/or labels of analysed tracks",
        description="Write what the analysis gave each track. --embeddings writes the song vectors the player "
                    "compares songs with (More like this, radio, sonic paths, like:/near:): both models' outputs "
                    "in one space, standardised over this library; with --raw, the genre model's own 32-d "
                    "embeddings instead.")
    p.add_argument("--embeddings", metavar="FILE.npz",
                   help="arrays 'paths' and 'vectors' (unit rows), one row per track, and 'space'")
    p.add_argument("--raw", action="store_true",
                   help="with --embeddings: the genre model's 32-d embeddings as stored, not the song vectors")
    p.add_argument("--labels", metavar="FILE.tsv", help="header row, then path, label, count, probability")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("show", parents=[common], help="a track's tags, genres and nearest neighbours")
    p.add_argument("track", metavar="TRACK", help="track id or path")
    p.add_argument("-n", type=int, default=5, help="neighbours to list (default 5)")
    p.set_defaults(handler=cmd_show)


def cmd_analyse(args) -> int:
    from tqdm import tqdm

    from player.analysis.service import AnalysisOptions, default_workers, run_analysis
    from player.commands.common import CliError, db_path, open_library

    if (args.workers is not None and args.workers < 1) or args.batch < 1:
        raise CliError("--workers and --batch must be at least 1")
    from player.analysis.engine import check_model_name, model_version
    from player.analysis.labels import LabelRuleError
    from player.analysis.registry import ModelError
    from player.analysis.relabel import relabel_library

    with open_library(args) as library:  # creates/migrates the database and checks it is readable
        try:
            if args.model:
                check_model_name(args.model, "genre")
            model_version(args.model)
            # labels written with an older label rule are recomputed from the stored results first (the
            # analysis service would do it too, silently): say so
            note = relabel_library(library)
        except (ModelError, LabelRuleError) as exc:
            raise CliError(str(exc)) from None
    if note.ran:
        print(f"analyse: {note.describe()}", flush=True)
    show_bar = sys.stderr.isatty() and not args.quiet
    bar = tqdm(total=0, unit="track", disable=not show_bar, file=sys.stderr, dynamic_ncols=True)
    failures: list[tuple[int, str]] = []
    loudness_failures: list[tuple[int, str]] = []
    phase = ["models"]

    def on_event(p):
        if p.state == "waiting":
            print(f"analyse: {p.message}", file=sys.stderr, flush=True)
        failures.extend(p.failures)
        loudness_failures.extend(p.loudness_failures)
        total, done = (p.loudness_total, p.loudness_done) if p.phase == "loudness" else (p.total, p.done)
        if p.phase == "loudness" and phase[0] != "loudness":
            phase[0] = "loudness"
            bar.set_description_str("loudness")
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.set_postfix_str("" if p.phase == "loudness" else p.current[:30], refresh=True)

    try:
        progress = run_analysis(db_path(args), workers=args.workers or default_workers(),
                                options=AnalysisOptions(genre_model=args.model, batch_tracks=args.batch,
                                                        precision=args.precision, loudness=args.loudness),
                                on_event=on_event)
    finally:
        bar.close()
    if progress.state == "error":
        raise CliError(progress.message)
    cancelled = ' (cancelled)' if progress.state == 'cancelled' else ''
    print(f"analyse: {progress.done - progress.failed} analysed, {progress.failed} failed{cancelled}")
    _print_failures(args, failures)
    if args.loudness and progress.loudness_done:
        print(f"loudness: {progress.loudness_done - progress.loudness_failed} measured, "
              f"{progress.loudness_failed} failed{cancelled}")
        _print_failures(args, loudness_failures)
    return 0 if progress.state == "finished" else 1


def _print_failures(args, failures: list[tuple[int, str]]) -> None:
    from player.commands.common import open_library, safe_text

    if not failures:
        return
    with open_library(args) as library:
        for track_id, reason in failures:
            t = library.track(track_id)
            print(f"  failed {safe_text(t.display_path) if t else track_id}: {safe_text(reason)}")


def cmd_export(args) -> int:
    import csv

    import numpy as np

    from player.analysis.store import read_embeddings, read_label_table
    from player.commands.common import CliError, open_library
    from player.recommend.data import read_song_vectors

    if args.raw and not args.embeddings:
        raise CliError("--raw goes with --embeddings FILE.npz")
    if not args.embeddings and not args.labels:
        raise CliError("say what to export: --embeddings FILE.npz and/or --labels FILE.tsv")
    with open_library(args) as library:
        if args.embeddings:
            if args.raw:
                emb = read_embeddings(library)
                ids, vectors, space, what = emb.track_ids, emb.vectors, "raw", "embeddings"
            else:  # the player's song vectors; a track with neither input has none
                ids, vectors = read_song_vectors(library)
                keep = vectors.any(axis=1)
                ids, vectors, space, what = ids[keep], vectors[keep], "joint", "song vectors"
            path_of = {r[0]: r[1] for r in library.db.query("SELECT id, path FROM tracks")}
            paths = np.array([path_of[i] for i in ids.tolist()], dtype=str)
            try:
                with open(args.embeddings, "wb") as f:
                    np.savez(f, paths=paths, vectors=vectors, space=np.array(space))
            except OSError as exc:
                raise CliError(f"cannot write {args.embeddings}: {exc.strerror or exc}") from None
            print(f"wrote {len(paths)} {what} ({vectors.shape[1]}-d) to {args.embeddings}")
        if args.labels:
            rows = read_label_table(library)
            try:
                with open(args.labels, "w", newline="", encoding="utf-8") as f:
                    w = csv.writer(f, delimiter="\t", lineterminator="\n")
                    w.writerow(["path", "label", "count", "probability"])
                    for path, label, count, probability in rows:
                        w.writerow([path, label, count, f"{probability:.4f}"])
            except OSError as exc:
                raise CliError(f"cannot write {args.labels}: {exc.strerror or exc}") from None
            print(f"wrote {len(rows)} label rows to {args.labels}")
    return 0


def cmd_show(args) -> int:
    from player.analysis.store import read_track
    from player.commands.common import open_library, safe_text

    with open_library(args) as library:
        track = library.resolve_track(args.track)
        print(f"{safe_text(track.title)} — {safe_text(track.artist or 'unknown artist')}"
              f"{' — ' + safe_text(track.album) if track.album else ''}")
        print(f"  {safe_text(track.display_path)}")
        analysis = read_track(library, track.id)
        if analysis is None:
            print("  not analysed yet: run 'python -m player analyse'")
            return 0
        if not analysis.ok:
            print(f"  analysis failed ({safe_text(analysis.model_version)}): {safe_text(analysis.error)}")
            return 0
        print(f"  analysed with {safe_text(analysis.model_version)} over {analysis.n_excerpts} excerpt(s)")
        print("  tags:   " + ", ".join(f"{safe_text(lab.name)} ×{lab.count} ({lab.probability:.2f})"
                                       for lab in analysis.labels[:12]))
        if analysis.genres is not None:
            print("  genres: " + ", ".join(f"{safe_text(name)} {p:.0%}" for name, p in analysis.genres.ranked(3)))
        analysed = analysis.embedding is not None or analysis.tags is not None
        neighbours = _neighbours(library, track.id, args.n) if analysed else []
        if neighbours:
            print("  sounds like:")
            for other, sim in neighbours:
                print(f"    {sim:5.2f}  {safe_text(other.title)} — {safe_text(other.artist or 'unknown artist')}")
    return 0


def _neighbours(library, track_id: int, n: int):
    """The nearest analysed tracks in the similarity space (the recommender's "more like this")."""
    from player.recommend import Recommender

    recs = Recommender.from_library(library).similar(track_id, n=n)
    return [(library.track(r.track_id), r.score) for r in recs]
