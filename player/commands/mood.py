"""The ``mood`` subcommand: read the listener's mood from the webcam (or an image / video file).

    python -m player mood --once [--camera N | --image FILE] [--policy match|cheer_up] [--json]
    python -m player mood --watch SECONDS [--camera N | --video FILE]   # the smoothed mood over time
    python -m player mood --mapping                                       # the emotion → labels table

Nothing is saved: no frames, no readings; the camera is released before the command returns.
"""

from __future__ import annotations

import json
import sys

from player.commands.common import CliError


def register(sub, common) -> None:
    p = sub.add_parser(
        "mood",
        parents=[common],
        help="read your mood from the webcam (or an image): face boxes, emotion, mood labels",
        description="Read the listener's mood from the webcam, an image or a video file. Frames never "
        "touch the disk; the camera is released when the command ends.",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--once", action="store_true", help="read the mood once (the default)")
    what.add_argument("--watch", type=float, metavar="SECONDS",
                      help="watch for SECONDS and print the smoothed mood whenever it changes")
    what.add_argument("--mapping", action="store_true",
                      help="print the emotion → tagger-label mapping in use, and its warnings")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, metavar="N", help="camera index (default 0)")
    src.add_argument("--image", metavar="FILE", help="an image file instead of the camera (with --once)")
    src.add_argument("--video", metavar="FILE", help="a video file or image folder instead of the camera")
    p.add_argument("--policy", default="match", choices=["match", "cheer_up", "cheer-up"],
                   help="match the mood (default) or cheer me up")
    p.add_argument("--json", action="store_true", help="print the reading as JSON")
    p.set_defaults(handler=cmd_mood)


def cmd_mood(args) -> int:
    from player.mood import MoodError

    try:
        if args.mapping:
            return _print_mapping(args)
        if args.watch is not None:
            return _watch(args)
        return _once(args)
    except MoodError as exc:
        raise CliError(str(exc)) from None


def _once(args) -> int:
    from player.mood import read_mood_once

    if args.image is not None and not args.image.strip():
        raise CliError("--image needs a file name")
    if args.image:
        reading = read_mood_once(image=args.image, policy=args.policy)
    else:
        spec = args.video if args.video else (args.camera if args.camera is not None else 0)
        reading = read_mood_once(camera=spec, policy=args.policy)
    if args.json:
        json.dump(reading.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(reading.format())
    return 0


def _watch(args) -> int:
    import threading

    from player.mood import MoodMonitor

    if args.image:
        raise CliError("--watch reads a camera or a --video; use --once for an image")
    if args.watch <= 0:
        raise CliError("--watch needs a positive number of seconds")
    spec = args.video if args.video else (args.camera if args.camera is not None else 0)
    done = threading.Event()
    out = {"error": None}

    def on_update(state):
        if state.error:
            out["error"] = state.error
        if not state.running:
            done.set()
            return
        if state.changed:
            if args.json:
                print(json.dumps({"t": round(state.time, 2), **state.as_dict()}), flush=True)
            elif state.mood:
                print(f"{state.time:6.1f}s  mood: {state.mood} ({state.confidence:.0%})  "
                      f"labels: {', '.join(state.labels) or '(none)'}", flush=True)
            else:
                print(f"{state.time:6.1f}s  mood: none ({state.message or 'no face for a while'})", flush=True)

    monitor = MoodMonitor(spec, on_update=on_update, policy=args.policy)
    monitor.start()
    try:
        done.wait(args.watch)
    finally:
        monitor.stop()
    if out["error"]:
        raise CliError(out["error"])
    if not args.json:
        state = monitor.state
        print(f"stopped ({state.message})" if state.message and state.message != "stopped" else "stopped")
    return 0


def _print_mapping(args) -> int:
    from player.mood.mapping import check_mapping, mapping_path

    report = check_mapping()
    if args.json:
        json.dump({"source": report.source, "vocabulary": report.vocabulary, "mapping": report.mapping,
                   "warnings": report.warnings, "user_file": str(mapping_path())}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(report.format())
        print(f"edit: {mapping_path()} (see docs/mood.md)")
    return 0
