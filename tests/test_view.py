"""The model and figures behind `blinasim view` (no browser: tests/test_view_browser.py drives the page)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("solara", reason="the view extra")

from mesa.visualization.solara_viz import _check_model_params, split_model_params

from blinasim.core.snapshot import LATTICE_MEANINGS
from blinasim.params.schema import load_config
from blinasim.view import WatchedPatient, courses_figure, lattice_figure, model_params


@pytest.fixture(scope="module")
def config():
    return load_config(None, {"simulation.lattice_size": 24, "simulation.days": 1.0})


def test_a_step_is_the_chosen_simulated_hours_and_the_collector_follows(config):
    model = WatchedPatient(config, hours_per_step=6.0, t_cells_per_ul=800.0, seed=3)
    assert model.config.patient.t_cells_per_ul == 800.0
    assert model.day == 0.0
    model.step()
    assert model.day == pytest.approx(0.25)
    assert model.steps == 1  # Mesa's counter
    df = model.datacollector.get_model_vars_dataframe()
    assert list(df["day"]) == pytest.approx([0.0, 0.25])
    assert df["blinatumomab_pg_per_ml"].iloc[-1] > 0  # the step-up infusion started on day 0
    for _ in range(10):
        model.step()
    assert model.day == pytest.approx(1.0) and not model.running  # stops at simulation.days


def test_the_picture_has_only_known_codes_and_the_figures_draw(config):
    model = WatchedPatient(config, seed=1)
    model.step()
    codes = model.lattice_picture()
    assert codes.shape == (24, 24)
    assert 0 <= codes.min() and codes.max() < len(LATTICE_MEANINGS)
    assert np.count_nonzero(codes == LATTICE_MEANINGS.index("blast_cd19_positive")) > 0
    for fig in (lattice_figure(model), courses_figure(model)):
        assert fig.axes


def test_the_controls_match_the_model_so_reset_can_rebuild_it(config):
    params = {"config": config, **model_params(config)}
    _check_model_params(WatchedPatient.__init__, params)  # Mesa's own check: raises on a mismatch
    user, fixed = split_model_params(params)
    assert set(user) == {"marrow_blast_fraction", "t_cells_per_ul", "regimen", "hours_per_step", "lattice_size", "seed"}
    kwargs = {**fixed, **{k: v.value if hasattr(v, "value") else v["value"] for k, v in user.items()}}
    model = WatchedPatient(**kwargs)
    assert model.config.treatment.regimen == config.treatment.regimen
