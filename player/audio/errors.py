"""The player's words for what goes wrong when a file is read: one place translates every exception that
libsndfile (soundfile), FFmpeg (PyAV) or the operating system raises into a one-line reason.

    from player.audio.errors import AudioError, translate_errors, check_regular_file

    check_regular_file(path)          # raises AudioError("the file is gone (moved or deleted)") etc.
    with translate_errors(path):      # any exception inside becomes AudioError(reason in words)
        ...

``AudioError`` is what the reader raises; ``str(exc)`` is the reason (no ``b'…'`` reprs, no library
prefixes, no tracebacks). ``during`` adds where decoding stopped ("decoding failed at 1:23: …").
"""

from __future__ import annotations

import contextlib
import os
import stat

NOT_AUDIO = "not an audio file FFmpeg or libsndfile can read"
NO_AUDIO = "damaged: no decodable audio"


class AudioError(Exception):
    """A file could not be read as audio; ``str(exc)`` is the reason in words."""


def fmt_time(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on); ``-:--`` for an unknown time."""
    if seconds is None:
        return "-:--"
    seconds = max(0.0, float(seconds))
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def path_problem(path) -> str | None:
    """Why ``path`` cannot be an audio file before anything opens it (gone, a folder, a pipe, empty,
    unreadable), or None. Never blocks: a FIFO or a device is refused, not opened."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "the file is gone (moved or deleted)"
    except PermissionError:
        return "the file cannot be read (permission denied)"
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror or type(exc).__name__})"
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return "it is a folder, not an audio file"
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        return f"it is {kind}, not an audio file"
    if st.st_size == 0:
        return "the file is empty"
    if not os.access(path, os.R_OK):
        return "the file cannot be read (permission denied)"
    return None


def check_regular_file(path) -> None:
    """Raise :class:`AudioError` when ``path`` is not a readable, non-empty regular file."""
    problem = path_problem(path)
    if problem:
        raise AudioError(problem)


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0].strip() if text else ""


# What the two libraries say (lower-case fragments of their messages), in the player's words. Their own text
# never reaches the listener: a message not listed here gets the fallback for where it happened.
MEMORY = "not enough memory to decode it"
UNSUPPORTED = "it uses an encoding this player cannot decode"
_FFMPEG_WORDS = (
    ("invalid data", (NOT_AUDIO, "damaged data")),
    ("end of file", (NOT_AUDIO, "the file ends early")),
    ("not found", (NOT_AUDIO, UNSUPPORTED)),          # "decoder not found", "demuxer not found"
    ("not yet implemented", (UNSUPPORTED, UNSUPPORTED)),
    ("patch welcome", (UNSUPPORTED, UNSUPPORTED)),
    ("cannot allocate memory", (MEMORY, MEMORY)),
    ("input/output error", ("the file cannot be read (input/output error)",) * 2),
    ("permission denied", ("the file cannot be read (permission denied)",) * 2),
    ("operation not permitted", ("the file cannot be read (permission denied)",) * 2),
)
_SNDFILE_WORDS = (
    ("not recognised", (NOT_AUDIO, "damaged data")),
    ("not recognized", (NOT_AUDIO, "damaged data")),
    ("unknown format", (NOT_AUDIO, "damaged data")),
    ("not a regular file", (NOT_AUDIO, NOT_AUDIO)),
    ("unsupported", (NOT_AUDIO, UNSUPPORTED)),
    ("unimplemented", (NO_AUDIO, "damaged data")),    # a known signature, then data it cannot parse
    ("malformed", (NO_AUDIO, "damaged data")),
    ("no data", (NO_AUDIO, "damaged data")),
    ("memory", (MEMORY, MEMORY)),
    ("permission denied", ("the file cannot be read (permission denied)",) * 2),
)


def _in_words(text: str, table, opening: bool, fallback: tuple[str, str]) -> str:
    low = text.lower()
    for fragment, words in table:
        if fragment in low:
            return words[0 if opening else 1]
    return fallback[0 if opening else 1]


def _ffmpeg_reason(exc: BaseException, opening: bool) -> str:
    """An av.error.FFmpegError in words (FFmpeg's strerror matched against a table)."""
    text = str(getattr(exc, "strerror", None) or _first_line(str(exc)))
    return _in_words(text, _FFMPEG_WORDS, opening, (NOT_AUDIO, "damaged data"))


def _soundfile_reason(exc: BaseException, opening: bool) -> str:
    """A soundfile.LibsndfileError in words (libsndfile's message matched against a table)."""
    text = _first_line(str(exc))
    if text.startswith("Error opening") and ": " in text:
        text = text.rsplit(": ", 1)[-1]  # "Error opening '<file name>': <what>"
    return _in_words(text, _SNDFILE_WORDS, opening, (NO_AUDIO, "damaged data"))


def reason(exc: BaseException, path=None, *, opening: bool = False) -> str:
    """``exc`` (from av, soundfile, the OS or numpy) as the player's one-line reason."""
    if isinstance(exc, AudioError):
        return str(exc)
    if path is not None and isinstance(exc, OSError) and not type(exc).__module__.startswith("av"):
        problem = path_problem(path)
        if problem:
            return problem
    module = type(exc).__module__ or ""
    if module.startswith("av"):
        return _ffmpeg_reason(exc, opening)
    if module.startswith("soundfile") or type(exc).__name__ == "LibsndfileError":
        return _soundfile_reason(exc, opening)
    if isinstance(exc, MemoryError):
        return MEMORY
    if isinstance(exc, UnicodeError):
        return "its name cannot be passed to the decoder"
    if isinstance(exc, OSError):
        return f"the file cannot be read ({exc.strerror or type(exc).__name__})"
    text = _first_line(str(exc))
    return f"{text[:160]} ({type(exc).__name__})" if text else type(exc).__name__


@contextlib.contextmanager
def translate_errors(path=None, *, opening: bool = False, during: float | None = None):
    """Turn any exception raised inside into :class:`AudioError` with the reason in words.
    ``during``: seconds into the file where decoding was, for "decoding failed at m:ss: …"."""
    try:
        yield
    except AudioError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # av.error.*, soundfile.LibsndfileError, OSError, RuntimeError …
        text = reason(exc, path, opening=opening)
        if during is not None:
            text = f"decoding failed at {fmt_time(during)}: {text}"
        raise AudioError(text) from None


__all__ = ["AudioError", "translate_errors", "check_regular_file", "path_problem", "reason", "fmt_time",
           "NOT_AUDIO", "NO_AUDIO", "MEMORY", "UNSUPPORTED"]
