"""The realdata marker follows the fixtures: a test that reads the real exports through any fixture has it,
and `-m "not realdata"` leaves only tests that need nothing but generated data."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO


def _collected(*args: str) -> set[str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                         cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return {line.split("::")[1].split("[")[0] for line in run.stdout.splitlines() if "::" in line}


def test_tests_that_read_the_real_exports_are_marked_and_the_others_are_not():
    files = ["tests/unit/test_movies.py", "tests/integration/test_movie_queries.py"]
    marked = _collected("-m", "realdata", *files)
    unmarked = _collected("-m", "not realdata", *files)
    assert "test_peliculas_idioma" in marked                    # through handlers -> real_release -> real_data_dir
    assert "test_the_etl_publishes_the_movies_table" in marked   # real_release directly
    assert "test_nested_values_match_literal_eval" in marked     # raw -> shared_data
    assert "test_malformed_rows_are_rejected_with_reasons_never_a_crash" in unmarked   # hand-made rows only
    assert not marked & unmarked
