"""The ETL's progress (etl_job/progress.py): a line when a stage ends, a line when a long one starts, progress
while it runs (a tqdm bar at a terminal, a plain line at most every LOG_EVERY_S seconds in a log), and one
set of timings for the run, under any prefix."""

from __future__ import annotations

import io
import re

from etl_job import progress as progress_module
from etl_job.progress import Progress


def _lines(stream: io.StringIO) -> list[str]:
    return [re.sub(r"^\[\s*[\d.]+s\] ", "", line) for line in stream.getvalue().splitlines()]


def test_in_a_log_a_long_stage_says_it_started_then_a_line_per_interval_then_its_end(monkeypatch):
    stream = io.StringIO()
    say = Progress(stream)
    assert not say.interactive, "a StringIO is no terminal"
    monkeypatch.setattr(progress_module, "LOG_EVERY_S", 0.0)
    with say.begin("grid search", 4, "fits") as steps:
        for _ in range(4):
            steps.advance()
    say("grid search", combos=2)
    assert _lines(stream) == ["grid search: started (4 fits)", "grid search: 1/4 fits (25%)",
                              "grid search: 2/4 fits (50%)", "grid search: 3/4 fits (75%)",
                              "grid search: 4/4 fits (100%)", "grid search: combos=2"]


def test_in_a_log_steps_within_the_interval_print_nothing(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(progress_module, "LOG_EVERY_S", 3600.0)
    with Progress(stream).begin("similar titles search", 1, "chunks") as steps:
        steps.advance()
    assert _lines(stream) == ["similar titles search: started (1 chunk)"]


def test_at_a_terminal_the_bar_counts_the_steps_and_goes_when_the_stage_ends():
    stream = io.StringIO()
    say = Progress(stream, interactive=True)
    with say.begin("final fit", 3, "ratings") as steps:
        steps.advance(3)
    started, bar = stream.getvalue().split("\n", 1)
    assert re.fullmatch(r"\[\s*[\d.]+s\] final fit: started \(3 ratings\)", started)
    assert bar.startswith("\rfinal fit:   0%") and "0/3" in bar, bar
    assert re.search(r"\r +\r$", bar), "the bar is cleared when the stage ends (leave=False)"


def test_scoped_progress_shares_the_runs_timings_and_prefixes_its_stages():
    stream = io.StringIO()
    say = Progress(stream)
    say("catalogs cleaned", rows=3)
    training = say.scoped("training: ")
    training("grid search")
    training.scoped("ranking ")("fit")
    assert list(say.timings) == ["catalogs cleaned", "training: grid search", "training: ranking fit"]
    assert training.timings is say.timings
    assert _lines(stream)[1:] == ["training: grid search: ", "training: ranking fit: "]


def test_quiet_progress_writes_nothing_but_still_times():
    say = Progress(quiet=True)
    with say.begin("x", 2) as steps:
        steps.advance(2)
    say.scoped("a: ")("y")
    assert say.stream is None and list(say.timings) == ["a: y"]
