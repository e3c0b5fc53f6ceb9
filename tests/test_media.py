"""core.media: frame-exact random access across codecs/containers, metadata, audio, errors."""
from __future__ import annotations

import os
import random
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from core.errors import MediaError
from core.media import FrameRangeError, MediaReader, probe, write_video
from tests.videogen import burst_onsets, decode_index, index_frame, make_video, tone_bursts

N = 60
NTSC_FILM = Fraction(24000, 1001)
# (file name, codec, options): B-frames and short GOPs so seeks cross keyframes and reorderings.
COMBOS = [
    ("h264.mp4", "h264", {"gop": 12, "bframes": 3}),
    ("hevc.mov", "hevc", {"gop": 12, "bframes": 2}),
    ("vp9.mkv", "vp9", {"gop": 12}),
    ("h264.ts", "h264", {"gop": 12, "bframes": 2}),
    ("h264_open_gop.ts", "h264", {"gop": 15, "bframes": 2, "options": {"x264-params": "open-gop=1"}}),
    ("hevc.ts", "hevc", {"gop": 15, "bframes": 2}),
    ("mpeg4_b.avi", "mpeg4", {"gop": 12, "bframes": 2}),
    ("h264_b.avi", "h264", {"gop": 12, "bframes": 2}),
    ("mpeg4.mp4", "mpeg4", {"gop": 10}),
    ("h264_ntsc.mkv", "h264", {"gop": 12, "bframes": 2}),
]


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    out = {}
    for name, codec, opts in COMBOS:
        fps = NTSC_FILM if "ntsc" in name else 25
        out[name] = make_video(folder / name, n=N, fps=fps, codec=codec, **opts)
    return out


def _exact(reader: MediaReader, order: list[int]) -> list[tuple[int, int]]:
    """(asked, got) for every access that returned another frame."""
    return [(i, got) for i in order if (got := decode_index(reader.frame(i))) != i]


@pytest.mark.parametrize("name", [c[0] for c in COMBOS])
def test_random_access_is_exact(videos, name):
    path = videos[name]
    order = list(range(N))
    random.Random(7).shuffle(order)
    order += list(range(N - 1, -1, -1)) + [3, 3, 3, N - 1, 0, N - 1, 13, 12, 11, 24, 23]
    with MediaReader(path, cache_frames=0, readahead=False) as reader:  # every access decodes
        assert len(reader) == N
        assert _exact(reader, order) == []
    with MediaReader(path) as reader:  # cache + read-ahead
        assert _exact(reader, order) == []


@pytest.mark.parametrize("name", ["h264.mp4", "h264.ts", "h264_b.avi", "vp9.mkv"])
def test_sequential_iteration(videos, name):
    with MediaReader(videos[name]) as reader:
        got = [(i, decode_index(f), f.flags.writeable) for i, f in reader.iter_frames()]
        assert got == [(i, i, True) for i in range(N)]
        got = [(i, decode_index(f)) for i, f in reader.iter_frames(start=17, stop=41)]
        assert got == [(i, i) for i in range(17, 41)]
        assert list(reader.iter_frames(start=N)) == []
        # a consumer that stops early leaves no decoding thread behind
        before = threading.active_count()
        for i, _ in reader.iter_frames(5):
            if i == 8:
                break
        assert threading.active_count() <= before


def test_metadata(videos):
    info = probe(videos["h264.mp4"])
    assert info.fps == Fraction(25) and info.frame_count == N == info.header_frame_count
    assert (info.width, info.height) == (160, 128)
    assert info.duration_s == pytest.approx(N / 25)
    assert not info.variable_frame_rate and not info.has_audio and info.audio_rate is None
    assert info.video_codec == "h264" and info.container == "mp4"
    d = info.to_dict()
    assert d["fps"] == "25/1" and d["frame_count"] == N and d["path"] == str(videos["h264.mp4"])
    for name in ("h264.ts", "vp9.mkv"):  # containers that do not store a frame count
        assert probe(videos[name]).header_frame_count is None
        assert probe(videos[name]).frame_count == N
    assert probe(videos["hevc.mov"]).video_codec == "hevc"
    assert probe(videos["mpeg4_b.avi"]).video_codec == "mpeg4"


def test_ntsc_film_rate_is_exact(videos):
    for name in ("h264_ntsc.mkv",):
        info = probe(videos[name])
        assert info.fps == NTSC_FILM and not info.variable_frame_rate
        assert info.duration_s == pytest.approx(N * 1001 / 24000, abs=2e-3)
    path = make_video(videos["h264.mp4"].parent / "ntsc.mp4", n=30, fps="24000/1001", gop=10)
    with MediaReader(path) as reader:
        assert reader.info.fps == NTSC_FILM and reader.info.to_dict()["fps"] == "24000/1001"
        for i in range(30):
            t = reader.time_of(i)
            assert t == pytest.approx(i * 1001 / 24000, abs=1e-9)
            assert reader.index_at(t) == i
            assert reader.index_at(t + 0.9 * 1001 / 24000) == i
        assert reader.index_at(-1.0) == 0 and reader.index_at(1e6) == 29


@pytest.mark.parametrize("ext", ["mkv", "mp4", "ts"])
def test_variable_frame_rate(tmp_path, ext):
    # 30 fps, then 15 fps, then 25 fps
    times = np.concatenate([np.arange(20) / 30, 2 / 3 + np.arange(20) / 15, 2 / 3 + 4 / 3 + np.arange(20) / 25])
    path = write_video(tmp_path / f"vfr.{ext}", (index_frame(i) for i in range(N)), 25, gop=12, times_s=times)
    info = probe(path)
    assert info.variable_frame_rate and info.frame_count == N
    assert info.duration_s == pytest.approx(times[-1] + 1 / 25, abs=2e-3)
    assert float(info.fps) == pytest.approx(N / info.duration_s, rel=5e-3)  # the mean rate
    with MediaReader(path, cache_frames=0) as reader:
        assert np.allclose([reader.time_of(i) for i in range(N)], times, atol=1e-3)
        assert [reader.index_at(t + 0.01) for t in times] == list(range(N))
        assert _exact(reader, [59, 3, 40, 22, 0, 21, 39, 19, 20]) == []


@pytest.mark.parametrize("ext,opts", [("mp4", {"container_options": {"movflags": "faststart"}}),
                                      ("avi", {}), ("ts", {})])
def test_truncated_file_counts_frames_that_decode(tmp_path, ext, opts):
    path = make_video(tmp_path / f"cut.{ext}", n=N, gop=10, bframes=2, **opts)
    with open(path, "r+b") as fh:
        fh.truncate(int(os.path.getsize(path) * 0.6))
    info = probe(path)
    assert 10 < info.frame_count < N
    if ext != "ts":
        assert info.header_frame_count == N  # the header still claims every frame
    with MediaReader(path, cache_frames=0, readahead=False) as reader:
        sequential = dict(reader.iter_frames())
        assert sorted(sequential) == list(range(info.frame_count))
        # the last frame may be cut mid-packet: its damaged pixels depend on what was decoded before
        order = list(range(info.frame_count - 1))
        random.Random(3).shuffle(order)
        for i in order:
            assert np.array_equal(reader.frame(i), sequential[i]), i
        assert reader.frame(info.frame_count - 1).shape == (128, 160, 3)
        for i in range(10):  # before the cut the frames are the ones written
            assert decode_index(reader.frame(i)) == i


def test_ts_capture_starting_mid_gop(tmp_path, monkeypatch):
    source = make_video(tmp_path / "source.ts", n=90, gop=30, bframes=2)
    data = source.read_bytes()
    cut = tmp_path / "capture.ts"
    cut.write_bytes(data[(len(data) // 3) // 188 * 188:])  # whole 188-byte TS packets, mid-GOP

    def no_full_decode(*args):
        raise AssertionError("the index should come from packets, not a full decode")

    import core.media.index

    monkeypatch.setattr(core.media.index, "_from_full_decode", no_full_decode)
    info = probe(cut)
    assert info.frame_count == 60 and info.header_frame_count is None  # from the 2nd keyframe on
    with MediaReader(cut, cache_frames=0, readahead=False) as reader:
        assert [decode_index(f) for _, f in reader.iter_frames()] == list(range(30, 90))
        order = list(range(60))
        random.Random(5).shuffle(order)
        assert [(i, decode_index(reader.frame(i))) for i in order] == [(i, i + 30) for i in order]


def test_cache_readahead_and_threads(videos):
    with MediaReader(videos["h264.mp4"], cache_frames=32) as reader:
        reader.frame(19)
        first = reader.frame(20)  # playing forward: the reader reads ahead
        assert not first.flags.writeable  # cached arrays are shared: read-only
        assert reader.cached(20) is first
        deadline = time.monotonic() + 30
        while reader.cached(20 + reader.readahead_frames) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        ahead = [reader.cached(i) for i in range(21, 21 + reader.readahead_frames)]
        assert all(a is not None for a in ahead)
        assert [decode_index(a) for a in ahead] == list(range(21, 21 + reader.readahead_frames))
        reader.frame(50)  # a jump reads ahead a few frames after it, none before
        deadline = time.monotonic() + 30
        while reader.cached(51) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert decode_index(reader.cached(51)) == 51 and reader.cached(45) is None
        reader.prefetch(5, 9)
        while reader.cached(8) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [decode_index(reader.cached(i)) for i in (5, 6, 7, 8)] == [5, 6, 7, 8]
        errors: list[tuple[int, int]] = []

        def hammer(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(40):
                i = rng.randrange(N)
                if decode_index(reader.frame(i)) != i:
                    errors.append((seed, i))

        threads = [threading.Thread(target=hammer, args=(s,)) for s in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_unclosed_reader_is_collected_with_its_thread(videos):
    import gc

    before = threading.active_count()
    reader = MediaReader(videos["h264.mp4"])
    reader.frame(1)
    reader.frame(2)
    del reader
    gc.collect()
    deadline = time.monotonic() + 30
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before


def test_range_and_closed_errors(videos):
    reader = MediaReader(videos["h264.mp4"])
    for bad in (-1, N, 10_000):
        with pytest.raises(FrameRangeError, match=r"out of range.*0\.\.59") as e:
            reader.frame(bad)
        assert isinstance(e.value, MediaError) and e.value.path == videos["h264.mp4"]
    reader.close()
    with pytest.raises(MediaError, match="closed"):
        reader.frame(0)


def test_missing_and_corrupt_files(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(MediaError, match="not found") as e:
        probe(missing)
    assert e.value.path == missing and "nope.mp4" in str(e.value)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError) as e:
        MediaReader(junk)
    assert "junk.mp4" in str(e.value)
    text = tmp_path / "notes.mov"
    text.write_text("not a video\n")
    with pytest.raises(MediaError, match="notes.mov"):
        probe(text)
    with pytest.raises(MediaError, match="folder"):
        probe(tmp_path)
    audio_only = tmp_path / "sound.wav"
    import av

    with av.open(str(audio_only), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        c.mux(s.encode(frame))
        c.mux(s.encode(None))
    with pytest.raises(MediaError, match="no video stream"):
        probe(audio_only)


@pytest.mark.parametrize("name,audio_codec,tolerance_s", [
    ("pcm.mkv", "pcm_s16le", 0.0002), ("pcm.mov", "pcm_s16le", 0.0002),
    ("aac.mp4", "aac", 0.002), ("aac.ts", "aac", 0.002)])
def test_audio_length_and_frame_mapping(tmp_path, name, audio_codec, tolerance_s):
    n, fps, written_rate = 50, Fraction(25), 48000
    marked = [3, 17, 30, 44]
    audio = tone_bursts(n, fps, written_rate, marked)
    path = write_video(tmp_path / name, (index_frame(i) for i in range(n)), fps, gop=10,
                       audio=audio, audio_rate=written_rate, audio_codec=audio_codec)
    info = probe(path)
    assert info.has_audio and info.audio_rate == written_rate and info.audio_channels == 1
    with MediaReader(path) as reader:
        for rate in (16000, 22050):
            track = reader.audio(rate)
            assert track.dtype == np.float32 and track.ndim == 1
            assert track.size == round(reader.info.duration_s * rate)
            onsets = burst_onsets(track, rate)
            expected = [reader.sample_of_frame(k, rate) for k in marked]
            assert len(onsets) == len(marked)
            assert np.abs(np.array(onsets) - expected).max() <= tolerance_s * rate + 1
            assert [reader.frame_of_sample(s + 2, rate) for s in expected] == marked
        stereo = reader.audio(16000, mono=False)
        assert stereo.shape == (round(reader.info.duration_s * 16000), 1)


def test_audio_absent_is_an_error(videos):
    with MediaReader(videos["h264.mp4"]) as reader, pytest.raises(MediaError, match="no audio"):
        reader.audio()


def test_write_video_rejects_empty_and_bad_path(tmp_path):
    with pytest.raises(MediaError, match="no frames"):
        write_video(tmp_path / "empty.mp4", [], 25)
    with pytest.raises(MediaError, match="missing_dir"):
        write_video(tmp_path / "missing_dir" / "x.mp4", [index_frame(0)], 25)


def _real_checks(path: Path, frames: int, fps: Fraction, accesses: int) -> MediaReader:
    info = probe(path)
    assert info.frame_count == frames == info.header_frame_count
    assert info.fps == fps
    reader = MediaReader(path, cache_frames=8)
    sequential = dict(reader.iter_frames())
    assert sorted(sequential) == list(range(frames))
    order = list(range(frames))
    random.Random(11).shuffle(order)
    for i in order[:accesses] + [frames - 1, 0, frames // 2, frames // 2 - 1]:
        assert np.array_equal(reader.frame(i), sequential[i]), i
    return reader


def test_real_h264_mp4(shared_data):
    with _real_checks(shared_data / "single_face.mp4", 72, Fraction(30), 30) as reader:
        info = reader.info
        assert (info.width, info.height) == (640, 360) and info.video_codec == "h264"
        assert not info.variable_frame_rate and info.duration_s == pytest.approx(2.4)
        assert info.has_audio and info.audio_rate == 44100
        track = reader.audio(16000)
        assert track.size == round(2.4 * 16000) and np.abs(track).max() > 0
        assert reader.sample_of_frame(30, 16000) == 16000


def test_real_hevc_mov(shared_data):
    with _real_checks(shared_data / "face_noface.mov", 169, Fraction(519168, 19667), 16) as reader:
        info = reader.info
        assert (info.width, info.height) == (960, 540) and info.video_codec == "hevc"
        assert info.variable_frame_rate  # 30 fps then 24 fps
        assert info.has_audio
        times = np.array([reader.time_of(i) for i in range(169)])
        assert np.all(np.diff(times) > 0)
        assert reader.index_at(times[100]) == 100
        track = reader.audio(8000)
        # the audio track starts 2.43 s into the video: silence (zeros) is placed before it
        assert track.size == round(info.duration_s * 8000)
        assert np.all(track[: int(2.4 * 8000)] == 0) and np.abs(track[int(2.5 * 8000):]).max() > 0
