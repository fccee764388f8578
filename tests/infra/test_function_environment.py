"""The variables each function gets besides streamlens' own: numpy's on one thread, nothing for the others."""

from __future__ import annotations

from infra.data_api import FUNCTIONS


def test_the_numpy_functions_run_openblas_on_one_thread(synthesized):
    """Multi-threaded OpenBLAS on less than a vCPU made the recommender's top-10 take 12 ms at p50 instead of
    2.3 ms (docs/benchmarks.md); the functions without numpy get no such variable."""
    _, template, _ = synthesized
    variables = {f["Properties"]["FunctionName"]: f["Properties"]["Environment"]["Variables"]
                 for f in template.find_resources("AWS::Lambda::Function").values()
                 if str(f["Properties"].get("FunctionName", "")).startswith("streamlens-dev-")}
    assert len(variables) == len(FUNCTIONS)
    for spec in FUNCTIONS:
        threads = variables[f"streamlens-dev-{spec.name}"].get("OPENBLAS_NUM_THREADS")
        assert threads == ("1" if "numpy" in spec.layers else None), spec.name
    assert {spec.name for spec in FUNCTIONS if spec.environment} == {"recommender", "recomendacion", "similar", "docs"}
