"""Stage-by-stage progress for long ETL steps: stage, rows, elapsed seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._stage_started = self.started
        self.timings: dict[str, float] = {}

    def __call__(self, stage: str, **details) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + now - self._stage_started, 2)
        self._stage_started = now
        text = " ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in details.items())
        print(f"[{now - self.started:7.1f}s] {stage}: {text}", file=self.stream, flush=True)

    @property
    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 2)
