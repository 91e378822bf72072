"""Recommendation subcommands: ``next`` (up next for a listener) and ``similar`` (more like this)."""

from __future__ import annotations

import json
import sys


def register(sub, common) -> None:
    p = sub.add_parser(
        "next",
        parents=[common],
        help="what to play next for a listener (taste, current song, history and mood)",
        description="The next songs for a listener: their star profile, the song playing now, what they "
        "and others played together, and an optional mood.",
    )
    p.add_argument("--user", "-u", required=True, action="append", metavar="NAME",
                   help="the listener (more than once: one Up next for listening together)")
    p.add_argument("--after", metavar="TRACK", help="the song playing now (id or path)")
    p.add_argument(
        "--mood",
        metavar="MOOD",
        help="a mood (happy, sad, angry, calm, …), comma-separated tag labels, or 'auto' to read it "
        "from the camera once",
    )
    p.add_argument("-n", type=int, default=10, metavar="N", help="how many songs (default 10)")
    p.add_argument("--json", action="store_true", help="a JSON list of {id, path, title, score, reason, …}")
    p.add_argument("--explain", action="store_true", help="show every score part behind each song")
    p.set_defaults(handler=cmd_next)

    p = sub.add_parser(
        "similar",
        parents=[common],
        help="songs that sound like a track (more like this)",
        description="The songs closest to a track by the cosine of their song vectors (both models' outputs, "
                    "standardised over this library; docs/recommender.md).",
    )
    p.add_argument("track", metavar="TRACK", help="track id or path")
    p.add_argument("-n", type=int, default=10, metavar="N", help="how many songs (default 10)")
    p.add_argument("--json", action="store_true", help="a JSON list of {id, path, title, score, reason, …}")
    p.add_argument("--explain", action="store_true", help="show the score parts")
    p.set_defaults(handler=cmd_similar)


# -- mood -------------------------------------------------------------------------------------
def resolve_mood(text: str, rec) -> tuple[list[str], str]:
    """``(labels, name)`` for ``--mood``: 'auto' (camera), a mood word, or comma-separated labels."""
    from player.commands.common import CliError
    from player.mood.mapping import lookup, moods

    value = (text or "").strip()
    if not value:
        raise CliError("--mood needs a mood (e.g. happy), tag labels separated by commas, or 'auto'")
    if value.casefold() == "auto":
        try:
            from player.mood import read_mood_once
        except Exception as exc:  # ImportError, or the module is broken
            raise CliError(f"--mood auto needs the camera mood module, which is not available ({exc})") from None
        try:
            reading = read_mood_once(camera=0)
        except Exception as exc:  # no camera, busy, permission denied, missing model …
            raise CliError(f"--mood auto: could not read a mood from the camera: {exc}") from None
        labels = [str(x) for x in (getattr(reading, "labels", None) or [])]
        emotion = getattr(reading, "emotion", None)
        if not labels:
            print(
                f"note: no mood read from the camera ({emotion or 'no face'}); recommending without a mood",
                file=sys.stderr,
            )
            return [], ""
        return labels, str(emotion or "mood")
    if "," in value:
        labels = [x.strip() for x in value.split(",") if x.strip()]
        return labels, "mood"
    labels = lookup(value)  # the mood table (player/mood/mapping.py), or a tagger label
    if labels is not None:
        return labels, value.lower()
    if rec.match_labels([value]):  # a single tag label
        return [value], "mood"
    raise CliError(
        f"unknown mood {value!r} (try one of {', '.join(sorted(moods()))}, tag labels separated by commas, or 'auto')"
    )


# -- output -----------------------------------------------------------------------------------
def _rows(library, recs, explain: bool) -> list[dict]:
    out = []
    for r in recs:
        t = library.track(r.track_id)
        row = {
            "id": r.track_id,
            "path": t.display_path if t else None,
            "title": t.title if t else None,
            "artist": t.artist if t else None,
            "album": t.album if t else None,
            "score": round(float(r.score), 6),
            "reason": r.reason,
            "analysed": r.analysed,
        }
        if explain:
            row["parts"] = _jsonable(r.parts)
        out.append(row)
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def _print(rows: list[dict], as_json: bool, explain: bool, empty: str) -> None:
    """JSON exactly as stored; human-readable lines with control characters made visible."""
    from player.commands.common import safe_text

    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    if not rows:
        print(empty)
        return
    for i, row in enumerate(rows, 1):
        who = safe_text(row["artist"] or "unknown artist")
        print(f"{i:3d}. {row['score']:6.3f}  {row['id']:6d}  {who} - {safe_text(row['title'])}")
        print(f"               {safe_text(row['reason'])}")
        if explain:
            parts = ", ".join(f"{k}={v}" for k, v in row.get("parts", {}).items())
            print(f"               {safe_text(parts)}")


def _check_n(n: int) -> int:
    from player.commands.common import CliError

    if n < 1 or n > 10_000:
        raise CliError(f"-n must be from 1 to 10000, not {n}")
    return n


# -- handlers ---------------------------------------------------------------------------------
def cmd_next(args) -> int:
    from player.commands.common import CliError, open_library, safe_text
    from player.recommend import Recommender, RecommendSettings

    if len(args.user) > 1:  # several listeners: listening together (player.recommend.together)
        from player.commands.playlist import cmd_next_together

        return cmd_next_together(args)
    args.user = args.user[0]
    n = _check_n(args.n)
    with open_library(args) as library:
        user = library.user(args.user)  # LibraryError: one clear line
        after = library.resolve_track(args.after).id if args.after else None
        if library.track_count() == 0:
            raise CliError("the library is empty: scan a folder of music first ('scan DIR')")
        rec = Recommender.from_library(library, settings=RecommendSettings.load(library))
        mood_labels, mood_name = ([], "")
        if args.mood is not None:
            mood_labels, mood_name = resolve_mood(args.mood, rec)
            if mood_labels and not rec.match_labels(mood_labels):
                print(
                    f"note: no analysed song has the mood labels ({safe_text(', '.join(mood_labels))}); "
                    "the mood cannot change the list until the songs are analysed",
                    file=sys.stderr,
                )
        recs = rec.up_next(
            user.id, after_track_id=after, mood_labels=mood_labels or None, n=n, mood_name=mood_name or None
        )
        rows = _rows(library, recs, args.explain)
    _print(rows, args.json, args.explain, "nothing to propose: every song is excluded (recently played or disliked)")
    return 0


def cmd_similar(args) -> int:
    from player.commands.common import open_library, safe_text
    from player.recommend import Recommender, RecommendSettings

    n = _check_n(args.n)
    with open_library(args) as library:
        track = library.resolve_track(args.track)
        rec = Recommender.from_library(library, settings=RecommendSettings.load(library))
        recs = rec.similar(track.id, n=n)
        rows = _rows(library, recs, args.explain)
    if recs and recs[0].parts.get("basis") == "metadata":
        print(f"note: {safe_text(track.title)} is not analysed yet: these share its album or artist", file=sys.stderr)
    _print(
        rows,
        args.json,
        args.explain,
        f"nothing to compare with: {safe_text(track.title)} is not analysed yet and shares no artist or album",
    )
    return 0
