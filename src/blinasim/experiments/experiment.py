"""The experiment API: :class:`Experiment` reads and validates an experiment file
(:mod:`blinasim.experiments.spec`) and runs it into a store (:mod:`blinasim.experiments.sweep`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blinasim.experiments.spec import ExperimentError, ExperimentSpec, Plan, parse_experiment
from blinasim.experiments.sweep import run_sweep
from blinasim.params.schema import ConfigError, read_toml

# ---------------------------------------------------------------- the API


class Experiment:
    """A validated experiment: build it from TOML, then :meth:`run` it into a store.

    >>> exp = Experiment.from_toml("experiments/schedule_comparison.toml")   # doctest: +SKIP
    >>> exp.run("results/schedule.zarr", workers=2)                            # doctest: +SKIP
    """

    def __init__(self, spec: ExperimentSpec, plan: Plan, source: str | None = None, text: str | None = None):
        self.spec = spec
        self.plan = plan
        self.source = source
        self.text = text

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: str | Path = ".", *, text: str | None = None) -> Experiment:
        """Validate an experiment given as a nested dict (the parsed TOML)."""
        spec, plan = parse_experiment(data, Path(base_dir))
        return cls(spec, plan, text=text)

    @classmethod
    def from_toml(cls, path: str | Path) -> Experiment:
        """Read and validate an experiment file; relative paths in it are relative to the file."""
        p = Path(path)
        try:
            data = read_toml(p, "experiment file")
        except ConfigError as exc:
            raise ExperimentError(exc.marked) from None
        text = p.read_bytes().decode("utf-8-sig")
        spec, plan = parse_experiment(data, p.resolve().parent, source=str(p))
        return cls(spec, plan, source=str(p), text=text)

    @property
    def name(self) -> str:
        return self.plan.name

    def __repr__(self) -> str:
        p = self.plan
        return f"<Experiment {p.name!r}: {p.n_arms} arms x {p.n_samples} samples x {p.replicates} replicates>"

    def run(
        self,
        store: str | Path | None = None,
        *,
        executor: Any = None,
        workers: int | None = None,
        resume: bool = False,
        progress: bool = True,
        write: str | None = None,
        worker_timeout: float | None = None,
    ):
        """Run every run that is not done yet into ``store``; return a :class:`blinasim.experiments.sweep.SweepResult`.

        ``executor`` is an executor object (:class:`blinasim.experiments.sweep.LocalExecutor`,
        :class:`blinasim.experiments.sweep.DaskExecutor`), ``"local"``, ``"dask"``, or None
        for the ``[execution]`` table of the file (local processes by default).
        """
        return run_sweep(
            self,
            store,
            executor=executor,
            workers=workers,
            resume=resume,
            progress=progress,
            write=write,
            worker_timeout=worker_timeout,
        )
