"""The ``copy`` progress line: no made-up rate in its first frame, no header row counted."""

from __future__ import annotations

import io

from pgwire.cli import Progress, _CountingReader


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames(stream: io.StringIO) -> list[str]:
    return [frame.removesuffix("\x1b[K") for frame in stream.getvalue().split("\r")[1:]]


def test_the_first_frame_shows_no_rate() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(1_000_000, stream=stream, show=True, clock=clock)
    clock.now += 0.001  # one buffered read, a millisecond after the start
    progress.advance(65536, 1000)
    (first,) = frames(stream)
    assert "64.0 KB" in first and "1,000 rows" in first
    assert "/s" not in first


def test_rates_appear_once_half_a_second_has_passed() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream=stream, show=True, interval=0, clock=clock)
    progress.advance(1024, 10)
    clock.now += 2.0
    progress.advance(1024, 10)
    assert frames(stream)[-1].endswith("1.0 KB/s  10 rows/s")


def test_a_header_line_is_not_counted_as_a_row() -> None:
    progress = Progress(show=False)
    reader = _CountingReader(io.BytesIO(b"a,b\n1,x\n2,y\n3,z\n"), progress, True, skip_lines=1)
    while reader.read(5):
        pass
    assert progress.rows == 3


def test_without_a_header_every_line_is_a_row() -> None:
    progress = Progress(show=False)
    reader = _CountingReader(io.BytesIO(b"1,x\n2,y\n3,z\n"), progress, True)
    while reader.read(5):
        pass
    assert progress.rows == 3


def test_the_closing_line_shows_the_average_rates() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream=stream, show=True, clock=clock)
    progress.advance(2048, 20)
    clock.now += 0.25
    progress.close(rows=20)
    assert stream.getvalue().endswith("\r2.0 KB  20 rows  8.0 KB/s  80 rows/s\x1b[K\n")
