"""Watch one virtual patient: a Mesa SolaraViz app of the marrow lattice, the drug, IL-6 and the census.

``blinasim view CONFIG`` serves it (Solara, in a browser); in Jupyter, ``page``
(or :func:`make_page`) displays it inline. The model is
:class:`WatchedPatient`, the simulator's own :class:`~blinasim.core.model.BlinatumomabModel`
stepped a few simulated hours per Mesa step, with a Mesa ``DataCollector`` of the
drug level, IL-6 and the marrow census. The lattice is drawn from
:func:`blinasim.core.snapshot.lattice_codes`, the codes the output's ``lattice``
variable stores (``output.snapshot_every_days``): blasts by phenotype, normal B
cells, other marrow cells, and the T-cells over them by state (naive, active,
exhausted, engaged in a synapse).

The sidebar has Mesa's controls (play/pause, step, reset) and the patient's
parameters (baseline marrow blasts, blood T-cells, regimen, hours per step,
lattice size, seed); a change takes effect at Reset. Needs the ``view`` extra
(solara, altair).
"""

from __future__ import annotations

import json
import os
from typing import Any, get_args

import mesa
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from blinasim.core.model import BlinatumomabModel
from blinasim.core.snapshot import LATTICE_MEANINGS, lattice_codes
from blinasim.kernels import census
from blinasim.params.schema import Config, Regimen, load_config

#: Environment variables through which ``blinasim view`` hands the config to the app (Solara imports
#: this module in its server, so arguments cannot be passed directly).
ENV_CONFIG = "BLINASIM_VIEW_CONFIG"
ENV_OVERRIDES = "BLINASIM_VIEW_OVERRIDES"

#: One colour per lattice code (:data:`blinasim.core.snapshot.LATTICE_MEANINGS`).
COLOURS = (
    "#f4f1ea",  # empty
    "#cfc6b8",  # other marrow cell
    "#4c9be8",  # normal B cell
    "#d62728",  # blast CD19+
    "#9467bd",  # blast CD19-negative
    "#ff7f0e",  # blast lineage-switched
    "#7fd47f",  # T-cell naive
    "#1a9e1a",  # T-cell active
    "#6b6b2a",  # T-cell exhausted
    "#111111",  # T-cell engaged (synapse)
)
LABELS = (
    "empty",
    "other marrow cell",
    "normal B cell",
    "blast CD19+",
    "blast CD19-negative",
    "blast lineage-switched",
    "T-cell naive",
    "T-cell active",
    "T-cell exhausted",
    "T-cell in a synapse",
)
assert len(COLOURS) == len(LABELS) == len(LATTICE_MEANINGS)

#: The measures of the DataCollector: name -> (census column or None, long name [units]).
MEASURES = (
    "day",
    "blinatumomab_pg_per_ml",
    "il6_pg_per_ml",
    "marrow_blasts",
    "marrow_normal_b",
    "marrow_t_cells",
    "t_cells_engaged",
)


def base_config() -> Config:
    """The config ``blinasim view`` was started with (``BLINASIM_VIEW_CONFIG``, ``BLINASIM_VIEW_OVERRIDES``)."""
    path = os.environ.get(ENV_CONFIG) or None
    overrides = json.loads(os.environ.get(ENV_OVERRIDES) or "{}")
    return load_config(path, overrides)


class WatchedPatient(BlinatumomabModel):
    """A :class:`BlinatumomabModel` for watching: one Mesa step is ``hours_per_step`` simulated hours.

    Every keyword but ``config`` overrides that key of ``config`` (default: :func:`base_config`);
    ``None`` keeps the config's value.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        marrow_blast_fraction: float | None = None,
        t_cells_per_ul: float | None = None,
        regimen: str | None = None,
        lattice_size: int | None = None,
        hours_per_step: float = 6.0,
        seed: int | None = None,
        rng: Any = None,
    ):
        cfg = config if config is not None else base_config()
        overrides = {
            "patient.marrow_blast_fraction": None if marrow_blast_fraction is None else float(marrow_blast_fraction),
            "patient.t_cells_per_ul": None if t_cells_per_ul is None else float(t_cells_per_ul),
            "treatment.regimen": regimen,
            "simulation.lattice_size": None if lattice_size is None else int(lattice_size),
        }
        cfg = cfg.with_overrides({k: v for k, v in overrides.items() if v is not None})
        super().__init__(cfg, seed=None if seed is None else int(seed))
        self.hours_per_step = float(hours_per_step)
        self.ticks_per_step = max(1, round(self.hours_per_step / self.dt_hours))
        self.datacollector = mesa.DataCollector(model_reporters={name: _reporter(name) for name in MEASURES})
        self.datacollector.collect(self)

    @property
    def day(self) -> float:
        """Simulated days since the start."""
        return self.tick * self.dt_hours / 24.0

    def census(self) -> np.ndarray:
        """The census row now (:func:`blinasim.kernels.census.take_census`), in simulated agents."""
        st = self.state
        counts = np.zeros(census.C_SIZE, dtype=np.int64)
        census.take_census(
            st.tcells.n,
            st.tcells.record,
            self.config.tcells.exhausted_threshold,
            st.targets.n,
            st.targets.record,
            st.lattice,
            counts,
        )
        return counts

    def cells_of(self, column: int) -> float:
        """Cells one agent of a census column stands for: blasts carry their own (adaptive) weight."""
        if column in (census.C_BLASTS, census.C_BLASTS + 1):
            return float(getattr(self, "blast_weight", self.cells_per_agent))
        return float(self.cells_per_agent)

    def lattice_picture(self) -> np.ndarray:
        """The coded lattice now (:func:`blinasim.core.snapshot.lattice_codes`)."""
        return lattice_codes(self.state, self.config.tcells.exhausted_threshold)

    def step(self) -> None:
        """Advance ``hours_per_step`` simulated hours (or to the end of the run) and collect the measures."""
        for _ in range(self.ticks_per_step):
            if self.tick >= self.n_ticks:
                break
            BlinatumomabModel.step(self)  # one tick (the class's own step, not Mesa's wrapper)
        self.running = self.tick < self.n_ticks
        self.datacollector.collect(self)


def _reporter(name: str):
    def report(model: WatchedPatient) -> float:
        if name == "day":
            return model.day
        if name == "blinatumomab_pg_per_ml":
            return float(model.concentration)
        if name == "il6_pg_per_ml":
            return float(model.cytokines.il6)
        counts = model.census()
        column = {
            "marrow_blasts": census.C_BLASTS,
            "marrow_normal_b": census.C_NORMAL_B,
            "marrow_t_cells": census.C_T,
            "t_cells_engaged": census.C_T_ENGAGED,
        }[name]
        return float(counts[column]) * model.cells_of(column)

    return report


# ------------------------------------------------------------------ figures (plain matplotlib, testable)


def lattice_figure(model: WatchedPatient) -> Figure:
    """The marrow lattice now, one colour per code, with a legend."""
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    ax = fig.subplots()
    cmap = ListedColormap(COLOURS)
    norm = BoundaryNorm(np.arange(len(COLOURS) + 1) - 0.5, cmap.N)
    ax.imshow(model.lattice_picture(), cmap=cmap, norm=norm, interpolation="nearest", origin="lower")
    side_um = model.state.side * model.config.simulation.site_diameter_um
    ax.set_title(f"marrow, day {model.day:.2f} ({model.state.side} x {model.state.side} sites, {side_um:.0f} um)")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(
        handles=[Patch(color=c, label=lab) for c, lab in zip(COLOURS, LABELS, strict=True)],
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize="small",
        frameon=False,
    )
    return fig


def courses_figure(model: WatchedPatient) -> Figure:
    """Drug level and IL-6 (top), the marrow census (bottom), against simulated days."""
    df = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(df["day"], df["blinatumomab_pg_per_ml"], color="tab:blue", label="blinatumomab")
    top.set_ylabel("serum blinatumomab [pg/mL]", color="tab:blue")
    il6 = top.twinx()
    il6.plot(df["day"], df["il6_pg_per_ml"], color="tab:red", label="IL-6")
    il6.set_ylabel("serum IL-6 [pg/mL]", color="tab:red")
    for name, colour, label in (
        ("marrow_blasts", "#d62728", "blasts"),
        ("marrow_normal_b", "#4c9be8", "normal B cells"),
        ("marrow_t_cells", "#1a9e1a", "T-cells"),
        ("t_cells_engaged", "#111111", "T-cells in a synapse"),
    ):
        bottom.plot(df["day"], df[name].clip(lower=1.0), color=colour, label=label)
    bottom.set_yscale("log")
    bottom.set_ylabel("marrow cells [cells]")
    bottom.set_xlabel("time since start [day]")
    bottom.legend(fontsize="small", loc="best")
    return fig


# ------------------------------------------------------------------------------------- the Solara page


def model_params(config: Config) -> dict[str, Any]:
    """The sidebar's controls, starting at the values of ``config``."""
    from mesa.visualization import Slider  # lazy: mesa.visualization imports solara (the view extra)

    pat, sim = config.patient, config.simulation
    return {
        "marrow_blast_fraction": Slider(
            "baseline marrow blasts (fraction)", pat.marrow_blast_fraction, 0.0, 1.0, 0.05, dtype=float
        ),
        "t_cells_per_ul": Slider("baseline blood T-cells [/uL]", pat.t_cells_per_ul, 0.0, 3000.0, 50.0, dtype=float),
        "regimen": {
            "type": "Select",
            "value": config.treatment.regimen,
            "values": [r for r in get_args(Regimen) if r != "custom" or config.treatment.regimen == "custom"],
            "label": "regimen",
        },
        "hours_per_step": Slider("simulated hours per step", 6.0, 1.0, 48.0, 1.0, dtype=float),
        "lattice_size": Slider("lattice side [sites]", sim.lattice_size, 16, 256, 8, dtype=int),
        "seed": Slider("run seed", 0, 0, 1000, 1, dtype=int),
    }


def _page_components():
    """The Solara components (made on first use: solara is the view extra's)."""
    import solara  # lazy: the view extra is needed only when the page is made
    from mesa.visualization import SolaraViz  # lazy: mesa.visualization imports solara
    from mesa.visualization.utils import update_counter  # lazy: imports solara

    @solara.component
    def Marrow(model: WatchedPatient):
        update_counter.get()  # Mesa's step and play bump it: drawn again after every step
        counts = model.census()
        scale = model.cells_per_agent
        blasts = counts[census.C_BLASTS] * model.cells_of(census.C_BLASTS)
        with solara.Card("Marrow lattice"):
            solara.Text(f"day {model.day:.2f}", classes=["blinasim-day"])
            solara.Text(
                f" · marrow: {blasts:.3g} blasts, {counts[census.C_NORMAL_B] * scale:.3g} "
                f"normal B, {counts[census.C_T] * scale:.3g} T-cells, {counts[census.C_T_ENGAGED] * scale:.3g} "
                "in a synapse",
                classes=["blinasim-census"],
            )
            solara.FigureMatplotlib(lattice_figure(model), format="png")

    @solara.component
    def Courses(model: WatchedPatient):
        update_counter.get()
        with solara.Card("Drug, IL-6 and census"):
            solara.FigureMatplotlib(courses_figure(model), format="png")

    @solara.component
    def MarrowView(config: Config):
        """Mesa's SolaraViz (controls, parameters) with the marrow and the courses side by side.

        The components sit in the page itself rather than in SolaraViz's draggable grid, whose
        JavaScript Solara fetches from a CDN (unreachable offline); the model is shared as one
        reactive value, so Reset (a new model) redraws them too.
        """
        initial = solara.use_memo(lambda: WatchedPatient(config, seed=0), [])
        model = solara.use_reactive(initial)
        SolaraViz(
            model,
            components=[],
            model_params={"config": config, **model_params(config)},
            name="blinasim: the marrow under blinatumomab",
            play_interval=150,
        )
        with solara.Columns([1, 1]):
            Marrow(model.value)
            Courses(model.value)

    return MarrowView


def make_page(config: Config | None = None):
    """The view of a patient (``config``, default :func:`base_config`) as a Solara element: in Jupyter,
    display it (the last expression of a cell); ``blinasim view`` serves :data:`Page`."""
    return _page_components()(config if config is not None else base_config())


def _page():
    import solara  # lazy: the view extra is needed only when the page is served

    view = _page_components()

    @solara.component
    def Page():
        """The page ``blinasim view`` serves (Solara looks up ``Page``): one patient per browser session."""
        config = solara.use_memo(base_config, [])
        view(config)

    return Page


try:  # Solara finds the page by this module-level name; without the view extra the module still imports
    Page = _page()
except ImportError:  # pragma: no cover - the view extra is missing: `blinasim view` says so first
    Page = None
