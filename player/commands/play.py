"""``python -m player play TRACK…``: play library tracks or files in the terminal."""

from __future__ import annotations

import os
import sys


def register(sub, common) -> None:
    p = sub.add_parser(
        "play", parents=[common],
        help="play tracks (library ids or audio file paths) in the terminal",
        description="Play tracks gaplessly, printing the position. Ctrl-C stops.",
    )
    p.add_argument("tracks", nargs="+", metavar="TRACK", help="a library track id, or the path of an audio file")
    p.add_argument("--audio", choices=["auto", "sounddevice", "null"], default="auto",
                   help="output: the sound card (auto falls back to null without one), or null (silent)")
    p.add_argument("--fast", action="store_true",
                   help="with --audio null: consume the audio as fast as it decodes instead of in real time")
    p.add_argument("--user", "-u", metavar="NAME", help="record the plays in this listener's history")
    p.add_argument("--repeat", choices=["off", "one", "all"], default="off", help="repeat mode (default off)")
    p.add_argument("--shuffle", action="store_true", help="play in random order")
    p.add_argument("--gain", choices=["off", "track", "album", "auto"], default="off",
                   help="loudness normalisation from ReplayGain tags (auto: album gain while an album plays in "
                        "order; default off)")
    p.add_argument("--preamp", type=float, default=0.0, metavar="DB", help="with --gain: extra gain in dB")
    p.add_argument("--crossfade", type=float, default=0.0, metavar="SECONDS",
                   help="crossfade between tracks, 0-10 s (never inside an album played in order; default 0)")
    p.set_defaults(handler=cmd_play)


def _printable(text) -> str:
    """A name for the terminal: bytes that are not UTF-8 (kept as surrogates in file names) become \ufffd."""
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _resolve(args, library):
    """Tracks to queue, and (ref, reason) for the ones that cannot be."""
    from player.audio import FileTrack
    from player.audio.errors import path_problem
    from player.cli import CliError

    tracks, missing = [], []
    for ref in args.tracks:
        text = str(ref).strip()
        if text.isdigit() and not os.path.exists(text):
            if library is None:
                raise CliError(f"{text} looks like a track id but there is no library yet (scan a folder first)")
            track = library.track(int(text))
            if track is None:
                raise CliError(f"no track with id {text} in the library")
            tracks.append(track)
            continue
        if not os.path.exists(text):
            missing.append((text, "no such file"))
            continue
        if os.path.isdir(text):
            missing.append((text, "is a folder (give the files, or scan it into the library)"))
            continue
        problem = path_problem(text)  # a FIFO or a device is refused here, never opened (it would hang)
        if problem:
            missing.append((text, problem))
            continue
        track = library.track_by_path(text) if library is not None else None
        tracks.append(track if track is not None else FileTrack.from_path(text))
    return tracks, missing


def _label(track) -> str:
    title = getattr(track, "title", None) or os.path.basename(getattr(track, "path", "") or "?")
    artist = getattr(track, "artist", None)
    return _printable(f"{title} - {artist}" if artist else str(title))


def cmd_play(args) -> int:
    import queue as _queue

    from player.audio import AudioUnavailable, Player, fmt_time
    from player.cli import CliError, db_path, open_library

    if args.fast and args.audio != "null":
        raise CliError("--fast only applies to --audio null")
    if not 0.0 <= args.crossfade <= 10.0:
        raise CliError(f"--crossfade must be between 0 and 10 seconds, not {args.crossfade:g}")
    if not -30.0 <= args.preamp <= 30.0:
        raise CliError(f"--preamp must be between -30 and 30 dB, not {args.preamp:g}")
    needs_library = bool(args.user) or any(str(t).strip().isdigit() and not os.path.exists(str(t).strip())
                                           for t in args.tracks)
    library = open_library(args) if needs_library or db_path(args).exists() else None
    player = None
    try:
        user_id = library.user(args.user).id if args.user else None
        tracks, missing = _resolve(args, library)
        for ref, reason in missing:
            print(f"skipped {_printable(ref)}: {reason}", flush=True)
        if not tracks:
            raise CliError("nothing to play")
        backend = {"null": "null" if args.fast else "null-realtime"}.get(args.audio, args.audio)
        try:
            player = Player(library, user_id, backend=backend, gain_mode=args.gain, preamp_db=args.preamp,
                            crossfade=args.crossfade)
        except AudioUnavailable as exc:
            raise CliError(f"audio: {exc} (try --audio auto or --audio null)") from None
        if player.backend_message:
            print(f"audio: {player.backend_message}", file=sys.stderr, flush=True)
        return _run(player, tracks, args, missing, fmt_time, _queue)
    finally:
        if player is not None:
            player.close()
        if library is not None:
            library.close()


def _run(player, tracks, args, missing, fmt_time, _queue) -> int:
    events: _queue.SimpleQueue = _queue.SimpleQueue()
    player.subscribe(events.put)
    tty = sys.stdout.isatty()
    state = {"line": False, "last": None, "title": "", "played": 0, "skipped": len(missing), "failed": False}
    n = len(tracks)

    def status(pos, dur):
        text = f"{fmt_time(pos)} / {fmt_time(dur)}  {state['title']}"
        if tty:
            if text != state.get("shown") or not state["line"]:
                sys.stdout.write(f"\r{text}\x1b[K")
                sys.stdout.flush()
                state["shown"] = text
            state["line"] = True
        else:
            sec = int(pos)
            if sec != state["last"]:
                state["last"] = sec
                print(text, flush=True)

    def newline():
        if state["line"]:
            sys.stdout.write("\n")
            state["line"] = False

    player.queue.repeat = args.repeat
    player.queue.shuffle = args.shuffle
    player.queue.set_tracks(tracks)
    player.play()
    try:
        while True:
            try:
                ev = events.get(timeout=0.25)
            except _queue.Empty:
                if tty and player.state == "playing":
                    status(player.position, player.duration)
                continue
            if ev.kind == "track":
                newline()
                state["title"] = _label(ev.track)
                state["last"] = None
                index = ev.data.get("index")
                where = f" ({index + 1}/{n})" if index is not None and n > 1 else ""
                print(f"playing{where}: {state['title']}", flush=True)
                status(ev.data.get("position") or 0.0, ev.data.get("duration"))
            elif ev.kind == "position":
                if player.state == "playing":
                    status(ev.data.get("position", 0.0), ev.data.get("duration"))
            elif ev.kind == "ended":
                state["played"] += 1
                dur = getattr(ev.track, "duration", None) or ev.data.get("seconds_played")
                state["last"] = None
                status(dur or 0.0, dur)
                newline()
                if ev.data.get("warning"):
                    print(f"warning: {_label(ev.track)}: {ev.data['warning']}", flush=True)
            elif ev.kind == "skipped":
                newline()
                state["skipped"] += 1
                print(f"skipped {_label(ev.track)} ({_printable(getattr(ev.track, 'path', ''))}): "
                      f"{ev.data.get('reason')}", flush=True)
            elif ev.kind == "error":
                newline()
                state["failed"] = True
                print(f"error: {ev.data.get('message')}", file=sys.stderr, flush=True)
            elif ev.kind == "state" and ev.data.get("state") == "stopped":
                break
    except KeyboardInterrupt:
        newline()
        player.stop()  # the play so far is recorded when the player closes
        print("stopped", flush=True)
        return 130
    newline()
    if state["skipped"]:
        print(f"done: {state['played']} played, {state['skipped']} skipped", flush=True)
    return 0 if state["played"] else 1
