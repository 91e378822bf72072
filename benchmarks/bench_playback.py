"""Playback speed: decode throughput per format and backend, decode + resample, and the output callback.

    .venv/bin/python benchmarks/bench_playback.py [--seconds 60] [--device-rate 48000] [--blocks 40000]

0. Decode only, per backend (what justifies the reader's choice): each format's ~60 s stereo file read to
   the end through :class:`player.audio.reader.AudioFile` in 16384-frame blocks with libsndfile
   (soundfile) and with FFmpeg (PyAV), x real time, and the ratio between them in the same run. The
   reader sends a file to the backend marked "<- reader".
1. Decode + resample (the decoder thread's work): each file through :class:`player.audio.decoder.SourceReader`
   (the reader's backend, streaming soxr HQ to the device rate), x real time. Baseline, same run: the
   naive way, the whole file decoded in one go then ``soxr.resample`` (HQ) in one call. Goal: >= 100x
   for mp3/ogg.
2. The output callback (:meth:`Renderer.render`), driven directly in a loop with real decoded audio,
   with volume ramps, pauses, seeks (flush + fade) and gapless cuts mixed in; the ring is topped up
   between calls (not timed). Reports p50/p99/p99.9/max per block. Baseline, same run: a naive
   callback that slices and scales with fresh arrays. Goal: p99.9 < 1 ms.
3. End to end: the Player with the fast null output playing the wav and mp3 files (x real time).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from audiogen import write_audio  # noqa: E402

# label -> (file name, codec for audiogen.write_audio or None)
FORMATS = {
    "wav": ("bench.wav", None), "flac": ("bench.flac", None), "aiff": ("bench.aiff", None),
    "ogg": ("bench.ogg", None), "opus": ("bench.opus", None), "mp3": ("bench.mp3", None),
    "aac/m4a": ("bench.m4a", None), "alac": ("bench-alac.m4a", "alac"), "wma": ("bench.wma", None),
    "wavpack": ("bench.wv", None), "tta": ("bench.tta", None), "opus/mka": ("bench.mka", None),
}


def make_files(folder: Path, seconds: float) -> dict[str, Path]:
    files = {}
    for label, (name, codec) in FORMATS.items():
        sr = 48000 if name.endswith((".opus", ".mka")) else 44100
        t = np.arange(int(seconds * sr)) / sr
        rng = np.random.default_rng(0)
        # music-like: a few partials with a slow envelope plus a little noise, stereo
        x = sum(0.12 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate([110, 220, 330, 440, 660, 990]))
        x = x * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)) + 0.02 * rng.standard_normal(len(t))
        data = np.stack([x, np.roll(x, 300) * 0.9], axis=1).astype(np.float32)
        files[label] = write_audio(folder / name, data, sr, codec=codec)
    return files


def bench_backends(files: dict[str, Path], repeat: int) -> list[tuple]:
    """Decode only, with each backend that opens the file: (label, {backend: x real time}, reader's pick)."""
    from player.audio.errors import AudioError
    from player.audio.reader import FFMPEG, SOUNDFILE, AudioFile, open_audio

    rows = []
    for label, path in files.items():
        speeds = {}
        with open_audio(path) as f:
            seconds = f.count_frames() / f.samplerate
            chosen = f.backend
        for backend in (SOUNDFILE, FFMPEG):
            def run(backend=backend):
                with AudioFile(path, backend=backend) as f:
                    while len(f.read(16384)):
                        pass
            try:
                run()
            except AudioError:
                continue  # this backend cannot read the format
            speeds[backend] = seconds / best_of(run, repeat)
        rows.append((label, speeds, chosen))
    return rows


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_decode(files: dict[str, Path], device_rate: int, repeat: int) -> list[tuple]:
    import soxr

    from player.audio.decoder import SourceReader
    from player.audio.reader import read_audio

    rows = []
    for ext, path in files.items():
        info = read_audio(path)[1]
        seconds = info.frames / info.samplerate

        def ours():
            reader = SourceReader(str(path), device_rate, 2)
            n = 0
            while True:
                block = reader.read()
                if block is None:
                    break
                n += len(block)
            return n

        def naive():
            y, got = read_audio(path)
            return soxr.resample(y, got.samplerate, device_rate, quality="HQ")

        ours(), naive()  # warm up: imports, first-call setup, page cache
        t_ours = best_of(ours, repeat)
        t_naive = best_of(naive, repeat)
        rows.append((ext, info.samplerate, seconds, seconds / t_ours, seconds / t_naive))
    return rows


def bench_callback(path: Path, device_rate: int, blocks: int, blocksize: int) -> dict:
    from player.audio.decoder import SourceReader
    from player.audio.renderer import Renderer

    reader = SourceReader(str(path), device_rate, 2)
    chunks = []
    while (b := reader.read()) is not None:
        chunks.append(np.array(b))
    audio = np.concatenate(chunks)
    rend = Renderer(device_rate, 2, buffer_seconds=2.0)
    out = np.zeros((blocksize, 2), np.float32)
    src = [0]  # read position in ``audio`` of the fake decoder
    gen = [0]

    def feed():  # what the decoder thread does, untimed
        space = rend.capacity - (rend.w - rend.r)
        while space > 4096:
            k = min(4096, space)
            i = src[0] % (len(audio) - k)
            w = rend.w
            i0 = w % rend.capacity
            first = min(k, rend.capacity - i0)
            rend.ring[i0:i0 + first] = audio[i:i + first]
            rend.ring[:k - first] = audio[i + first:i + k]
            rend.w = w + k
            src[0] += k
            space -= k

    def new_gen(fade_in: bool):
        gen[0] += 1
        rend.target_gen = gen[0]
        rend.gen_start = (gen[0], rend.w, fade_in)

    new_gen(False)
    times = np.zeros(blocks, np.int64)
    naive_times = np.zeros(blocks, np.int64)
    vol = 1.0
    events = {"seeks": 0, "cuts": 0, "pauses": 0, "volume": 0}
    perf = time.perf_counter_ns
    for i in range(blocks):
        feed()
        if i % 500 == 250:  # a seek: fade out, flush, fade in
            new_gen(True)
            events["seeks"] += 1
        elif i % 500 == 100:  # a gapless cut two blocks ahead
            gen[0] += 1
            at = rend.r + 2 * blocksize
            rend.cut_req = (i + 1, rend.gen, at, gen[0], False)
            events["cuts"] += 1
        elif i % 500 == 101 and rend.limit >= 0:
            rend.w = rend.limit
            rend.gen_start = (rend.cut_gen, rend.limit, False)
            feed()
        elif i % 300 == 150:
            vol = 0.3 if vol == 1.0 else 1.0
            rend.target_gain = vol ** 3
            events["volume"] += 1
        elif i % 1000 == 700:
            rend.paused = True
            events["pauses"] += 1
        elif i % 1000 == 720:
            rend.paused = False
        t0 = perf()
        rend.render(out, True)
        times[i] = perf() - t0
    # naive callback: fresh arrays every block
    pos = 0
    for i in range(blocks):
        t0 = perf()
        n = blocksize
        chunk = audio[pos:pos + n]
        if len(chunk) < n:
            chunk = np.concatenate([chunk, audio[:n - len(chunk)]])
        out[:] = chunk * (vol ** 3)
        naive_times[i] = perf() - t0
        pos = (pos + n) % len(audio)
    us = times / 1000.0
    nus = naive_times / 1000.0
    return {
        "blocksize": blocksize, "block_ms": 1000 * blocksize / device_rate, "events": events,
        "p50": np.percentile(us, 50), "p99": np.percentile(us, 99), "p999": np.percentile(us, 99.9),
        "max": us.max(), "naive_p50": np.percentile(nus, 50), "naive_p999": np.percentile(nus, 99.9),
        "naive_max": nus.max(), "underruns": rend.underruns,
    }


def bench_end_to_end(files: dict[str, Path]) -> list[tuple]:
    from player.audio import FileTrack, NullBackend, Player
    from player.audio.reader import probe_audio

    rows = []
    for ext in ("wav", "mp3", "aac/m4a"):
        path = files[ext]
        seconds = probe_audio(path).duration
        backend = NullBackend(realtime=False, samplerate=48000)
        player = Player(backend=backend)
        done = []
        player.subscribe(lambda e: done.append(e) if e.kind == "state" and e.data["state"] == "stopped" else None)
        player.queue.set_tracks([FileTrack.from_path(path)])
        t0 = time.perf_counter()
        player.play()
        while not done and time.perf_counter() - t0 < 120:
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        player.close()
        rows.append((ext, seconds, wall, backend.frames / 48000))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the generated files (default 60)")
    ap.add_argument("--device-rate", type=int, default=48000, help="output rate (default 48000: 44.1 kHz files resample)")
    ap.add_argument("--blocks", type=int, default=40000, help="callback calls per block size (default 40000)")
    ap.add_argument("--repeat", type=int, default=3, help="decode runs per format, best taken (default 3)")
    args = ap.parse_args(argv)

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"device rate {args.device_rate} Hz")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        files = make_files(Path(tmp), args.seconds)
        print(f"generated {len(files)} files of {args.seconds:.0f} s in {time.perf_counter() - t0:.1f} s\n")

        print("decode only, per backend (x real time, best of %d)" % args.repeat)
        print(f"{'format':9} {'soundfile':>10} {'ffmpeg':>9} {'sf/ffmpeg':>10}  reader")
        for label, speeds, chosen in bench_backends(files, args.repeat):
            sf_x, av_x = speeds.get("soundfile"), speeds.get("ffmpeg")
            ratio = f"{sf_x / av_x:9.2f}x" if sf_x and av_x else f"{'-':>10}"
            print(f"{label:9} {f'{sf_x:.0f}x' if sf_x else '-':>10} {f'{av_x:.0f}x' if av_x else '-':>9} {ratio}"
                  f"  <- {chosen}")
        print("  '-': that backend cannot read the format")

        print("\ndecode + resample to the device rate (x real time, best of %d)" % args.repeat)
        print(f"{'format':9} {'file Hz':>8} {'ours':>9} {'naive':>9} {'ours/naive':>11}  goal")
        for ext, sr, seconds, ours, naive in bench_decode(files, args.device_rate, args.repeat):
            goal = ">=100x " + ("ok" if ours >= 100 else "MISSED") if ext in ("mp3", "ogg") else ""
            print(f"{ext:9} {sr:8d} {ours:8.0f}x {naive:8.0f}x {ours / naive:10.2f}x  {goal}")
        print("  naive = the whole file decoded at once + soxr.resample(HQ) in one call, same files, same run")

        print("\noutput callback, Renderer.render per block (microseconds; gc on, seeks/cuts/pauses/volume mixed in)")
        print(f"{'block':>6} {'(ms)':>6} {'p50':>7} {'p99':>7} {'p99.9':>7} {'max':>8} | {'naive p50':>9} {'naive p99.9':>11}"
              f" {'naive max':>9}  goal p99.9 < 1000")
        gc.collect()
        for bs in (256, 512, 1024):
            r = bench_callback(files["flac"], args.device_rate, args.blocks, bs)
            verdict = "ok" if r["p999"] < 1000 else "MISSED"
            print(f"{bs:6d} {r['block_ms']:6.1f} {r['p50']:7.1f} {r['p99']:7.1f} {r['p999']:7.1f} {r['max']:8.1f} | "
                  f"{r['naive_p50']:9.1f} {r['naive_p999']:11.1f} {r['naive_max']:9.1f}  {verdict}"
                  f"  (p50 ratio ours/naive {r['p50'] / r['naive_p50']:.2f}; events {r['events']})")

        print("\nend to end: Player + fast null output (decoder thread, ring, callback, monitor)")
        for ext, seconds, wall, played in bench_end_to_end(files):
            print(f"  {ext:5} {seconds:5.1f} s of audio in {wall:5.2f} s = {seconds / wall:6.0f}x real time "
                  f"({played:.1f} s output)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
