"""Which training configuration a run gets when none was chosen: the small search below SMALL_DATA_ROWS
ratings (the local run's sample), the full one from there on (real and production-size data)."""

from __future__ import annotations

from itertools import product

from etl_job.training import SMALL_CONFIG, SMALL_DATA_ROWS, TrainConfig, config_for


def test_the_full_search_from_the_threshold_on_and_the_small_one_below_it():
    assert config_for(SMALL_DATA_ROWS) == TrainConfig() and config_for(50_000_000).name == "full"
    assert config_for(SMALL_DATA_ROWS - 1) is SMALL_CONFIG and config_for(0).name == "small"


def test_the_small_search_is_smaller_in_every_dimension_that_costs_time():
    full, small = TrainConfig(), SMALL_CONFIG
    fits = lambda c: len(list(product(*c.grid.values()))) * c.cv   # noqa: E731
    assert fits(small) < fits(full) / 4
    assert small.grid_sample < full.grid_sample and small.knn_sample < full.knn_sample
    assert not small.extra_candidates and len(small.ranking.grid) < len(full.ranking.grid)
    assert small.ranking.grid[0] in full.ranking.grid, "a model the full search may choose"
