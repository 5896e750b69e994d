"""Normal-B supply from precursors (phase ``normal_b_supply``, slow clock).

Normal B cells do not divide in the model: CD19-negative precursors (not
simulated) supply new ones at a constant rate that balances their death at
baseline (:func:`equilibrium_supply_per_day`), so the baseline is stable and
they recover slowly after depletion. The number of new cells per slow step is
a Poisson draw; each settles at a random marrow site only if it is empty.
Their death is in the ``blast_fate`` phase.

Config: ``normal_b.death_rate_per_day`` (sets the supply), ``normal_b.cd19_median``,
``normal_b.cd19_log_sd``. Kernel: :func:`blinasim.kernels.normal_b_supply.supply_normal_b`.
Reference: ``ReferenceModel._normal_b_supply``.
"""

from __future__ import annotations

from typing import Any

from blinasim.core.state import P_NORMAL_B
from blinasim.kernels import normal_b_supply
from blinasim.kernels.layout import KIND_NORMAL_B
from blinasim.kernels.rng import NORMAL_B_SUPPLY, draw_poisson
from blinasim.params.schema import Config

#: The slot of the supply stream that draws the number of new cells (the cells use slots 0, 1, ...).
COUNT_SLOT = 2**31


def equilibrium_supply_per_day(config: Config, counts: dict[int, tuple[int, int]]) -> float:
    """Supply (agents per day) that balances the death of the baseline normal B cells,
    ``counts[KIND_NORMAL_B] = (in marrow, in blood)``."""
    marrow, blood = counts[KIND_NORMAL_B]
    return config.normal_b.death_rate_per_day * (marrow + blood)


def run(model: Any) -> None:
    """Draw the number of new normal B cells of this slow step and place them."""
    cfg, st, tg = model.config, model.state, model.state.targets
    dt_days = model.dt_hours * model.slow_every / 24.0
    mean = model.normal_b_supply_per_day * dt_days
    n_new = int(draw_poisson(model.run_seed, model.tick, NORMAL_B_SUPPLY, COUNT_SLOT, 0, mean))
    if n_new:
        tg.grow(tg.n + n_new)
        st.ensure_scratch()
        before = tg.n
        tg.n = normal_b_supply.supply_normal_b(
            model.run_seed,
            model.tick,
            n_new,
            tg.n,
            tg.record,
            st.lattice,
            cfg.normal_b.cd19_median,
            cfg.normal_b.cd19_log_sd,
        )
        model.births[P_NORMAL_B] += tg.n - before
