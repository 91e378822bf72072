"""Audio playback: a gapless engine with a queue, on FFmpeg (PyAV) / libsndfile + soxr + sounddevice. No Qt here.

    from player.audio import Player
    player = Player(library, user_id, backend="auto")
    player.queue.set_tracks(tracks)
    player.subscribe(print)          # PlayerEvent(kind, track, data), from a background thread
    player.play()

See docs/audio.md for the threads, the rules (skip, repeat, shuffle, bad files) and the backends.
"""

from player.audio.backends import AudioUnavailable, Backend, NullBackend, SoundDeviceBackend, make_backend
from player.audio.decoder import DecodeError
from player.audio.errors import AudioError, fmt_time
from player.audio.gain import GAIN_MODES, GainSettings
from player.audio.events import EVENT_KINDS, SKIP_SECONDS, FileTrack, PlayerEvent, is_skip
from player.audio.player import Player
from player.audio.queue import REPEAT_MODES, Queue


def preload() -> None:
    """Import what the first song would otherwise import as it starts (the readers, the resampler; the
    tag reader and every format it knows, which ``mutagen.File`` imports on its first call), in the caller's
    thread: the window calls it in the worker that opens the output, so the first play does not spend
    ~100 ms importing modules in the decoder thread, holding the interpreter lock the window paints with."""
    import io

    import av  # noqa: F401
    import mutagen
    import soundfile  # noqa: F401
    import soxr  # noqa: F401

    mutagen.File(io.BytesIO(b""))


__all__ = [
    "preload", "Player", "Queue", "PlayerEvent", "make_backend", "AudioUnavailable", "Backend", "NullBackend",
    "SoundDeviceBackend", "FileTrack", "DecodeError", "is_skip", "fmt_time", "SKIP_SECONDS", "EVENT_KINDS",
    "REPEAT_MODES", "AudioError", "GainSettings", "GAIN_MODES",
]
