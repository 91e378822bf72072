"""Duplicates subcommand: the library's files that hold the same recording (an MP3 and a FLAC of one
song, a re-encode, a copy in another folder), and which of each group looks best to keep."""

from __future__ import annotations

import json

from player.commands.common import CliError, open_library, safe_text


def register(sub, common) -> None:
    p = sub.add_parser("duplicates", parents=[common],
                       help="files that hold the same recording (re-encodes, copies), by length and sound",
                       description="Groups the library's files that hold the same recording: an MP3 and a FLAC "
                                   "of one song, a re-encode, a copy in another folder. Two files match when their "
                                   "lengths agree within 0.25 s and the analysis heard the same thing; each group "
                                   "names the file that looks best to keep (lossless, else the highest bit rate, "
                                   "else the most tags). Needs the songs analysed (python -m player analyse).")
    p.add_argument("--json", action="store_true",
                   help="a JSON list of groups, each a list of files (id, path, duration, format, keep)")
    p.set_defaults(handler=cmd_duplicates)


def file_json(f, keep: int, reason: str) -> dict:
    out = {"id": f.id, "path": f.path, "duration": f.duration, "format": f.format,
           "samplerate": f.samplerate, "bitrate_kbps": round(f.kbps, 1) if f.kbps else None,
           "tags": f.tags, "lossless": f.lossless, "keep": f.id == keep}
    if f.id == keep:
        out["reason"] = reason
    return out


def cmd_duplicates(args) -> int:
    from player.recommend.duplicates import format_text, length_text, read_duplicates

    with open_library(args) as lib:
        report = read_duplicates(lib)
    if report.tracks == 0:
        raise CliError("the library is empty: import music with 'python -m player scan FOLDER' first")
    if report.analysed == 0:
        raise CliError("no song is analysed yet: run 'python -m player analyse' first, then look for duplicates")
    if args.json:
        print(json.dumps([[file_json(f, g.keep, g.reason) for f in g.files] for g in report.groups],
                         ensure_ascii=False, indent=1))
        return 0
    n = len(report.groups)
    if not n:
        print(f"No possible duplicates among {report.analysed} analysed songs.")
    else:
        print(f"{n} group{'s' if n != 1 else ''} of possible duplicates among {report.analysed} analysed songs "
              f"(same length and the same sound):")
    for k, g in enumerate(report.groups, 1):
        print(f"\n{k}. {safe_text(g.files[0].title)} — {len(g.files)} files; keep #{g.keep}: {g.reason}")
        for f in g.files:
            mark = "keep" if f.id == g.keep else "    "
            print(f"  {mark} #{f.id:<6} {length_text(f.duration):>8}  {format_text(f):<33} {safe_text(f.path)}")
    left = report.tracks - report.analysed
    if left:
        print(f"\n{left} song{'s are' if left != 1 else ' is'} not analysed yet and not compared "
              f"(run 'python -m player analyse').")
    return 0
