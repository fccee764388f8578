"""Stage-by-stage progress of an ETL run: a line when each stage ends (stage, details, elapsed seconds), and for
the long ones a line when they start and progress while they run. At a terminal the progress is a tqdm bar
that disappears when the stage ends; in a log (the AWS task, CI, a pipe) it is a plain line at most every
LOG_EVERY_S seconds, so that a log shows a run is alive without a line per step."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

LOG_EVERY_S = 10.0


class Steps:
    """The progress of one long stage: advance() after each step; a context manager that ends it."""

    def __init__(self, progress: Progress, stage: str, total: int | None, unit: str):
        self._progress, self.stage, self.total, self.unit = progress, stage, total, unit
        self.done = 0
        self._bar = None
        named = unit.removesuffix("s") if total == 1 else unit
        progress.line(f"{stage}: started" + (f" ({total:,} {named})".replace(" )", ")") if total is not None else ""))
        if progress.interactive:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=stage, unit=f" {unit}" if unit else "it", file=progress.stream,
                             leave=False, dynamic_ncols=True)
        self._logged = time.perf_counter()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self._bar is not None:
            self._bar.update(steps)
            return
        now = time.perf_counter()
        if now - self._logged >= LOG_EVERY_S:
            self._logged = now
            share = f" ({self.done / self.total:.0%})" if self.total else ""
            of = f"/{self.total:,}" if self.total is not None else ""
            self._progress.line(f"{self.stage}: {self.done:,}{of} {self.unit}{share}".rstrip())

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class _Run:
    """What every view of one run's progress shares: when it started, when the last stage ended, the timings."""

    def __init__(self) -> None:
        self.started = self.stage_ended = time.perf_counter()
        self.timings: dict[str, float] = {}


class Progress:
    """stream: where the lines go (stderr by default, as it is when the line is written); quiet: nowhere;
    interactive: a tqdm bar for long stages (by default when the stream is a terminal)."""

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None, prefix: str = "",
                 run: _Run | None = None, *, quiet: bool = False):
        self.stream = None if quiet else (stream or sys.stderr)
        self.interactive = bool(stream is not None and (stream.isatty() if interactive is None else interactive))
        self.prefix = prefix
        self._run = run or _Run()

    def __call__(self, stage: str, **details) -> None:
        """A stage ended: its time (since the previous stage ended) and one line with its details."""
        stage = self.prefix + stage
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + now - self._run.stage_ended, 2)
        self._run.stage_ended = now
        text = " ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in details.items())
        self.line(f"{stage}: {text}")

    def begin(self, stage: str, total: int | None = None, unit: str = "") -> Steps:
        """A long stage starts: says so, and returns the Steps to advance while it runs."""
        return Steps(self, self.prefix + stage, total, unit)

    def scoped(self, prefix: str) -> Progress:
        """The same run's progress with stage names under a prefix (e.g. "training: ")."""
        return Progress(self.stream, self.interactive, self.prefix + prefix, self._run, quiet=self.stream is None)

    def line(self, text: str) -> None:
        if self.stream is not None:
            print(f"[{time.perf_counter() - self._run.started:7.1f}s] {text}", file=self.stream, flush=True)

    @property
    def timings(self) -> dict[str, float]:
        return self._run.timings

    @property
    def elapsed(self) -> float:
        return round(time.perf_counter() - self._run.started, 2)
