"""T-cell motility (phase ``motility``, fast clock): a random walk of free marrow T-cells.

Config: ``tcells.speed_um_per_min``, ``simulation.site_diameter_um``, ``simulation.dt_hours``.
Kernel: :func:`blinasim.kernels.motility.move_t_cells`. Reference: ``TCell.move``.
"""

from __future__ import annotations

from typing import Any

from blinasim.kernels import motility
from blinasim.params.schema import Config


def steps_per_tick(config: Config, dt_hours: float) -> float:
    """Lattice steps a free T-cell takes per tick: distance crawled / site diameter."""
    return config.tcells.speed_um_per_min * dt_hours * 60.0 / config.simulation.site_diameter_um


def run(model: Any) -> None:
    """Move every free marrow T-cell."""
    st, tc = model.state, model.state.tcells
    steps = steps_per_tick(model.config, model.dt_hours)
    motility.move_t_cells(model.run_seed, model.tick, tc.n, tc.record, st.side, steps)
