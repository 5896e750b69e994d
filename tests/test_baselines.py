"""Exact regression baseline (Starsim's ``test_baselines`` idea): small, varied runs whose summary
numbers are pinned in ``tests/baselines.json`` and must come out exactly the same.

The cases and the summary are defined in ``tests/baselines.py``. A difference fails the test with
a table of every changed number (baseline, now, change). When a change of results is intended,
regenerate the file with ``python scripts/update_baselines.py`` and commit it with the change.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.baselines import (
    CASES,
    MISSING,
    UPDATE_COMMAND,
    Case,
    changes,
    dataset_hash,
    drift_message,
    load,
    summarise,
)


@pytest.fixture(scope="module")
def pinned() -> dict:
    return load()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_run_matches_its_baseline_exactly(case: Case, pinned):
    assert case.name in pinned, f"case {case.name!r} has no baseline: run `{UPDATE_COMMAND}` and commit the file"
    input_rows = changes(pinned[case.name]["inputs"], case.inputs())
    summary_rows = changes(pinned[case.name]["summary"], summarise(case.run()))
    assert not (input_rows or summary_rows), drift_message(case.name, input_rows, summary_rows)


def test_baseline_file_holds_exactly_the_cases(pinned):
    assert list(pinned) == [case.name for case in CASES], f"cases and file differ: run `{UPDATE_COMMAND}`"
    for case in CASES:
        assert pinned[case.name]["description"] == case.description


def test_a_one_ulp_change_fails_loudly(pinned):
    """The comparison has no tolerance: one float moved by one unit in the last place, a changed endpoint label
    and a missing entry are each reported, with both values and the command that accepts the change."""
    old = pinned[CASES[0].name]["summary"]
    new = dict(old)
    new["il6_peak"] = float(np.nextafter(old["il6_peak"], np.inf))
    new["relapse_type"] = "cd19_negative" if old["relapse_type"] != "cd19_negative" else "none"
    del new["kills_total"]
    rows = changes(old, new)
    assert [key for key, _, _ in rows] == ["il6_peak", "kills_total", "relapse_type"]
    assert rows[1] == ("kills_total", old["kills_total"], MISSING)
    message = drift_message(CASES[0].name, [], rows)
    assert repr(old["il6_peak"]) in message and repr(new["il6_peak"]) in message
    assert UPDATE_COMMAND in message
    # An int that became a float of the same value is a change too (the output's dtype changed).
    assert changes({"max_crs_grade": 1}, {"max_crs_grade": 1.0}) == [("max_crs_grade", 1, 1.0)]


def test_dataset_hash_sees_every_bit_but_not_the_software_versions():
    ds = xr.Dataset(
        {"il6": ("time", np.array([0.0, 12.5, 3.25])), "relapse_type": ((), np.array("none"))},
        coords={"time": [0.0, 1.0, 2.0]},
        attrs={"seed": 3, "numpy_version": "2.5.5"},
    )
    base = dataset_hash(ds)
    assert dataset_hash(ds.assign_attrs(numpy_version="9.9")) == base
    moved = ds.copy(deep=True)
    moved["il6"].values[1] = np.nextafter(12.5, np.inf)
    assert dataset_hash(moved) != base
    assert dataset_hash(ds.assign_attrs(seed=4)) != base
    assert dataset_hash(ds.assign(relapse_type=((), np.array("cd19_negative")))) != base
    assert dataset_hash(ds.assign_coords(time=[0.0, 1.0, 3.0])) != base
