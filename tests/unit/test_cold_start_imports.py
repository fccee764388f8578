"""What a function imports on a cold start: only what its first answer needs (bench/functions_bench.py measures
the time; these tests keep the modules out)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO

PROBE = """
import json, sys
from streamlens.combined_app import load_handler
from streamlens.storage import make_client
load_handler(sys.argv[1]).handler
make_client()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _imported(function: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, function], cwd=REPO, capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout))


def test_a_query_function_imports_neither_boto3_nor_numpy():
    """S3 clients come from botocore: boto3's resources and transfer manager (s3transfer, multiprocessing) cost
    every cold start and serve nothing; numpy is for the functions that rank or look up neighbours."""
    imported = _imported("get_actor")
    assert "botocore" in imported
    assert not imported & {"boto3", "s3transfer", "multiprocessing", "numpy", "pandas"}


def test_the_recommender_imports_numpy_but_not_boto3():
    imported = _imported("recommender")
    assert "numpy" in imported and not imported & {"boto3", "s3transfer", "pandas"}
