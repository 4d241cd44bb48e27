"""The benchmark's headline: the median round's ratios, and the same figure as time per text beyond the floor."""

from __future__ import annotations

import os

import pytest

from bench.__main__ import TARGET, headline
from bench.report import budget


def a_round(bare: float, floor: float, full: float) -> dict[str, dict[str, float]]:
    return {"bare": {"rps": bare}, "floor": {"rps": floor}, "full": {"rps": full}}


def test_the_headline_is_the_median_round_with_its_spread() -> None:
    found = headline([a_round(4000, 2000, 1000), a_round(4000, 2000, 1600), a_round(4000, 2000, 1200)])

    assert found["ratio_full_to_floor"] == pytest.approx(0.6)
    assert found["ratio_full_to_floor_spread"] == [pytest.approx(0.5), pytest.approx(0.8)]
    assert found["target_full_to_floor"] == TARGET


def test_a_text_beyond_the_floor_is_the_machine_time_the_full_pipeline_adds() -> None:
    cpus = os.cpu_count() or 1
    found = headline([a_round(4000, 2000, 1000)])

    # The floor takes cpus / 2000 s of the machine per text, the full pipeline cpus / 1000 s.
    assert found["beyond_floor_us"] == pytest.approx(cpus * 500)
    assert found["beyond_floor_at_target_us"] == pytest.approx(cpus * 500 * (1 / TARGET - 1))


def test_at_the_target_nothing_is_left_over() -> None:
    found = headline([a_round(4000, 2000, 2000 * TARGET)])

    assert found["beyond_floor_us"] == pytest.approx(found["beyond_floor_at_target_us"])


def test_the_budget_line_names_the_engine_step_when_the_stages_ran() -> None:
    http = {"beyond_floor_us": 620.4, "beyond_floor_at_target_us": 113.6}
    stages = {"results": [{"name": "  engine step", "mean_us": 113.2}, {"name": "open", "mean_us": 240.0}]}

    assert budget(http, stages) == ("per text beyond the floor (CPUs x seconds / requests, median of rounds): 620 us;"
                                    " the target leaves 114 us; the engine step alone takes 113 us (mean, in-process)")
    assert "engine step" not in budget(http, None)
