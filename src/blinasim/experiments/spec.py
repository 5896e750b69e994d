"""Experiments: a base config, arms, a sampler, replicates and a root seed.

An experiment file is TOML (see ``docs/experiments.md`` for the full
reference)::

    [experiment]
    name = "schedule"
    seed = 20240101          # root seed; run seeds derive from it
    replicates = 4

    [base]                   # the config every run starts from
    file = "default.toml"    # optional, relative to this file
    simulation.days = 28.0   # inline keys override the file

    [[arm]]                  # scenarios compared on the same patients
    name = "step_up"
    treatment.regimen = "rr_step_up"

    [[arm]]
    name = "flat"
    treatment.regimen = "flat"

    [sampler]                # parameter sets / virtual patients
    method = "lhs"
    n = 16
    [sampler.parameters]
    "patient.t_cells_per_ul" = { low = 200.0, high = 1500.0, scale = "log" }

Everything is validated before anything runs: unknown keys anywhere,
parameter paths against the config schema (:class:`blinasim.params.schema.Config`),
bounds, sampler sizes, and every (arm, sample) config through
:func:`blinasim.params.schema.validate_config`. Problems are collected and raised
together as an :class:`ExperimentError`, one line each, naming the key, the
value and what is allowed.

Seeds: run ``(arm, sample, replicate)`` gets
``blinasim.core.seeds.run_seed(root_seed, sample, replicate)`` — independent of the
arm, so arms are compared on common random numbers.

Virtual patients: ``method = "cohort"`` draws ``n`` patients of a trial
population with :func:`blinasim.trials.cohort.draw_cohort` seeded with the root seed
(or ``sampler.seed``); sample ``i`` is patient ``i``. The cohort's trial
settings (:func:`blinasim.trials.trial.cohort_settings`) go into the base config, so
with the same seed a sweep runs exactly the simulations of
:func:`blinasim.trials.trial.run_cohorts` (see ``docs/virtual-trials.md``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from blinasim.core.seeds import run_seed
from blinasim.experiments.samplers import (
    METHODS,
    ParameterInfo,
    ParameterRange,
    SampleSet,
    draw,
    is_power_of_two,
    read_csv,
)
from blinasim.params.paths import annotation_kind, get_dotted, schema_node, set_dotted, unknown_key_message
from blinasim.params.schema import Config, ConfigError, parse_value, read_toml, validate_config
from blinasim.trials.cohort import COHORTS
from blinasim.trials.trial import cohort_settings

#: Keys that together fix the time grid; every run of an experiment must share them.
TIME_GRID_KEYS = (
    "simulation.days",
    "simulation.dt_hours",
    "simulation.slow_step_hours",
    "simulation.record_every_hours",
)
#: Keys an arm or sampler may not set, and why.
RESERVED_KEYS = {
    "simulation.seed": "run seeds derive from experiment.seed (the root seed), sample and replicate; "
    "set experiment.seed instead",
}
TOP_LEVEL_KEYS = ("experiment", "base", "arm", "sampler", "output", "execution", "inject_failure")
#: The top-level keys a user is told about: ``inject_failure`` is a test hook, accepted but never offered.
USER_TOP_LEVEL_KEYS = tuple(k for k in TOP_LEVEL_KEYS if k != "inject_failure")
#: At most this many (arm, sample) validation problems are listed one by one.
MAX_LISTED_PROBLEMS = 12


class ExperimentError(ConfigError):
    """An invalid experiment: one readable line per problem."""


# ------------------------------------------------------------------ schema


def parameter_info(path: str) -> ParameterInfo:
    kind, node = schema_node(Config, path)
    assert kind == "leaf", path
    extra = node.json_schema_extra if isinstance(node.json_schema_extra, dict) else {}
    k, choices = annotation_kind(node.annotation)
    return ParameterInfo(path, k, choices, str(extra.get("unit", "")), node.description or "")


def flatten_config(table: dict[str, Any], what: str, problems: list[str], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables or quoted dotted keys -> ``{dotted.path: value}``, guided by the schema."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        kind, _ = schema_node(Config, path)
        if kind == "section" and isinstance(value, dict):
            out.update(flatten_config(value, what, problems, prefix=f"{path}."))
        elif kind == "section":
            problems.append(f"{what}: '{path}' is a section (a table of keys), not a value: got {value!r}")
        elif kind == "leaf":
            out[path] = value
        else:
            problems.append(unknown_key_message(Config, what, path, value))
    return out


def _config_problems(data: dict[str, Any], what: str) -> tuple[Config | None, list[str]]:
    try:
        return validate_config(data), []
    except ConfigError as exc:
        return None, [f"{what}: {p}" for p in exc.problems]


# ------------------------------------------------------------ file sections


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ExperimentSection(_Strict):
    """``[experiment]``: name, root seed and replicates."""

    name: str = Field(default="experiment", min_length=1, description="Short name of the experiment.")
    description: str = Field(default="", description="Free text, stored with the results.")
    seed: int | None = Field(
        default=None, ge=0, le=2**63 - 1, description="Root seed (default: the base config's simulation.seed)."
    )
    replicates: int = Field(default=1, ge=1, le=1_000_000, description="Runs per (arm, sample), different seeds.")
    allocation: dict[str, int] | None = Field(
        default=None,
        description="Randomised trial: arm name -> allocation weight (e.g. {blinatumomab = 2, chemotherapy = 1}). "
        "Every patient still runs every arm (common random numbers); the report's randomised comparison "
        "analyses each patient in the arm the permuted-block randomisation assigned it "
        "(blinasim.experiments.trial_report).",
    )


class ParameterSpec(_Strict):
    """One entry of ``[sampler.parameters]``."""

    low: float | None = Field(default=None, description="Lower bound (numeric samplers, grid with num).")
    high: float | None = Field(default=None, description="Upper bound.")
    values: list[Any] | None = Field(default=None, description="Explicit values (grid; uniform choice for random/lhs).")
    num: int | None = Field(default=None, ge=1, le=100_000, description="Grid points between low and high.")
    scale: Literal["linear", "log"] = Field(default="linear", description="Sample uniformly in x or in log10(x).")


class SamplerSection(_Strict):
    """``[sampler]``."""

    method: Literal["none", "grid", "random", "lhs", "sobol", "morris", "csv", "cohort"] = "none"
    n: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description="random/lhs: samples; sobol: base size N (a power of two); morris: trajectories; "
        "cohort: virtual patients.",
    )
    cohort: str | None = Field(
        default=None,
        description="cohort: the trial population (blinasim.trials.cohort.COHORTS: mt103_211, blast, alcantara).",
    )
    seed: int | None = Field(default=None, ge=0, description="Seed of the draw (default: the root seed).")
    second_order: bool = Field(default=False, description="sobol: also second-order indices (N*(2D+2) samples).")
    levels: int = Field(default=4, ge=2, le=1000, description="morris: grid levels (even).")
    file: str | None = Field(default=None, description="csv: path of the CSV of samples, relative to the experiment.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Dotted path -> range or values.")


class OutputSection(_Strict):
    """``[output]``."""

    store: str | None = Field(
        default=None,
        description="Default store path (--out overrides); a relative path is relative to the experiment file.",
    )
    variables: list[str] | None = Field(default=None, description="Run variables to keep (default: all).")
    shard_runs: int | None = Field(
        default=None,
        ge=1,
        description="Runs per shard file of the store (default: about 512 MiB of run data per shard).",
    )


class ExecutionSection(_Strict):
    """``[execution]``: defaults for the command line."""

    executor: Literal["local", "dask"] = "local"
    workers: int | None = Field(default=None, ge=1, le=4096, description="Local worker processes (default: cores).")
    scheduler: str | None = Field(default=None, description="Dask scheduler address, e.g. tcp://host:8786.")
    dask_local: int | None = Field(default=None, ge=1, le=4096, description="Start a Dask LocalCluster of N workers.")
    write: Literal["worker", "parent"] = Field(
        default="worker",
        description="Who writes a run's region: the worker that ran it (shared filesystem) or the parent.",
    )
    worker_timeout: float = Field(
        default=300.0,
        gt=0,
        le=7 * 86400,
        description="Dask: seconds runs wait for a worker while the cluster has none, then the sweep stops.",
    )


class InjectedFailure(_Strict):
    """``[[inject_failure]]``: make one run fail, to test executors, the store and resume."""

    arm: str
    sample: int = Field(ge=0)
    replicate: int = Field(default=0, ge=0)
    message: str = "injected failure"
    mode: Literal["raise", "exit"] = Field(
        default="raise", description="raise: the run raises RuntimeError; exit: its worker process dies."
    )


def _pydantic_problems(exc: ValidationError, section: str, model: type[BaseModel]) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        key = ".".join([section, *loc]) if loc else section
        if err["type"] == "extra_forbidden":
            out.append(
                f"unknown key '{key}' = {err['input']!r}; allowed keys in {section}: {', '.join(model.model_fields)}"
            )
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            out.append(f"{key}: required key is missing")
        else:
            out.append(f"{key} = {err.get('input')!r}: {msg}")
    return out


def _section(data: dict[str, Any], name: str, model: type[BaseModel], problems: list[str]) -> Any:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        problems.append(f"'{name}' must be a table ([{name}]), got {raw!r}")
        return model()
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, name, model))
        return None


# ------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Arm:
    """One arm: a name and the dotted-key overrides it applies to the base config."""

    name: str
    description: str
    overrides: dict[str, Any]


@dataclass
class Plan:
    """Everything that determines the runs of an experiment (and nothing that does not)."""

    name: str
    description: str
    root_seed: int
    replicates: int
    base: dict[str, Any]
    arms: list[Arm]
    samples: SampleSet
    failures: list[InjectedFailure] = field(default_factory=list)
    #: randomised comparison: arm name -> weight (analysis only: every (arm, sample) still runs)
    allocation: dict[str, int] = field(default_factory=dict)

    @property
    def n_arms(self) -> int:
        return len(self.arms)

    @property
    def n_samples(self) -> int:
        return self.samples.n

    @property
    def n_runs(self) -> int:
        return self.n_arms * self.n_samples * self.replicates

    @property
    def parameters(self) -> list[str]:
        return list(self.samples.parameters)

    def overrides(self, arm: int, sample: int) -> dict[str, Any]:
        """Arm overrides then sample overrides (they never share a key: checked at validation)."""
        out = dict(self.arms[arm].overrides)
        out.update(self.samples.overrides(sample))
        return out

    def config_dict(self, arm: int, sample: int) -> dict[str, Any]:
        data = copy.deepcopy(self.base)
        for path, value in self.overrides(arm, sample).items():
            set_dotted(data, path, value)
        return data

    def config(self, arm: int, sample: int) -> Config:
        """The validated config of every run of (arm, sample)."""
        return validate_config(self.config_dict(arm, sample))

    def seed(self, sample: int, replicate: int) -> int:
        """The run seed: a function of (root seed, sample, replicate), never of the arm."""
        return run_seed(self.root_seed, sample, replicate)

    def runs(self) -> list[tuple[int, int, int]]:
        """All (arm, sample, replicate) in submission order: replicate-major, arms innermost.

        Arms of one (sample, replicate) are adjacent, so a partial sweep holds
        complete pairs for the paired comparison.
        """
        return [(a, s, r) for r in range(self.replicates) for s in range(self.n_samples) for a in range(self.n_arms)]

    def failure_for(self, arm: int, sample: int, replicate: int) -> InjectedFailure | None:
        name = self.arms[arm].name
        for f in self.failures:
            if f.arm == name and f.sample == sample and f.replicate == replicate:
                return f
        return None

    def identity(self) -> dict[str, Any]:
        """The JSON-able content that determines results; its hash is the fingerprint."""
        return {
            "root_seed": self.root_seed,
            "replicates": self.replicates,
            "base": self.base,
            "arms": [{"name": a.name, "overrides": a.overrides} for a in self.arms],
            "parameters": self.samples.parameters,
            "samples": self.samples.rows if self.samples.parameters else [],
            "failures": [f.model_dump() for f in self.failures],
        }

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def summary(self) -> str:
        lines = [
            f"experiment {self.name!r}: {self.n_arms} arm(s) x {self.n_samples} sample(s) x "
            f"{self.replicates} replicate(s) = {self.n_runs} runs",
            f"  root seed {self.root_seed}; sampler {self.samples.method}"
            + (f" over {', '.join(self.parameters)}" if self.parameters else ""),
        ]
        meta = self.samples.meta
        if self.samples.method == "cohort":
            settings = []
            for k, v in meta["settings"].items():
                actual = get_dotted(self.base, k)
                settings.append(f"{k}={actual!r}" + ("" if actual == v else f" (cohort: {v!r}, set in [base])"))
            lines.append(
                f"  cohort {meta['cohort']!r}: {meta['n']} virtual patients drawn with seed {meta['seed']}; "
                f"trial settings in the base: {', '.join(settings)}"
            )
        for a in self.arms:
            sets = ", ".join(f"{k}={v!r}" for k, v in a.overrides.items()) or "(base config)"
            lines.append(f"  arm {a.name!r}: {sets}")
        if self.allocation:
            ratio = ":".join(str(w) for w in self.allocation.values())
            lines.append(
                f"  randomised {' vs '.join(self.allocation)} {ratio} (permuted blocks; every patient runs every "
                "arm, the report's randomised comparison counts each in its assigned arm)"
            )
        return "\n".join(lines)


# ------------------------------------------------------------- validation


def _parse_arms(raw: Any, base: Config, problems: list[str]) -> list[Arm]:
    if raw is None:
        return [Arm("base", "the base config", {})]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        problems.append(f"'arm' must be a list of tables ([[arm]] entries), got {raw!r}")
        return []
    arms: list[Arm] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            problems.append(f"arm #{i + 1}: must be a table with a name and config keys, got {entry!r}")
            continue
        entry = dict(entry)
        name = entry.pop("name", None)
        description = entry.pop("description", "")
        label = f"arm #{i + 1}" if not isinstance(name, str) else f"arm {name!r}"
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{label}: 'name' is required (a non-empty string), got {name!r}")
            continue
        if name in seen:
            problems.append(f"arm {name!r}: duplicate arm name; arm names must be unique")
        seen.add(name)
        if not isinstance(description, str):
            problems.append(f"{label}.description = {description!r}: must be a string")
            description = ""
        arm_problems: list[str] = []
        overrides = flatten_config(entry, label, arm_problems)
        # ``flatten_config`` names unknown keys; say which keys an arm itself has.
        arm_problems = [
            p + " (an arm has 'name', 'description' and dotted config keys)" if "unknown key" in p else p
            for p in arm_problems
        ]
        problems.extend(arm_problems)
        for path in overrides:
            if path in RESERVED_KEYS:
                problems.append(f"{label}: {path} = {overrides[path]!r} may not be set per arm: {RESERVED_KEYS[path]}")
        arms.append(Arm(name, description, overrides))
    return arms


def _parse_parameters(sampler: SamplerSection, problems: list[str]) -> list[tuple[str, ParameterSpec]]:
    """Flatten ``[sampler.parameters]`` (quoted dotted keys or nested tables) and check the paths."""
    out: list[tuple[str, ParameterSpec]] = []
    spec_keys = set(ParameterSpec.model_fields)

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            path = f"{prefix}{key}"
            kind, _ = schema_node(Config, path)
            if kind == "section" and isinstance(value, dict) and not (set(value) & spec_keys):
                walk(value, f"{path}.")
                continue
            if kind != "leaf":
                if kind == "section":
                    problems.append(f"sampler.parameters: '{path}' is a config section, not a parameter")
                else:
                    problems.append(
                        unknown_key_message(Config, "sampler.parameters", path, value).replace(
                            "unknown key", "unknown parameter path"
                        )
                    )
                continue
            if not isinstance(value, dict):
                problems.append(
                    f"sampler.parameters.'{path}' = {value!r}: expected a table such as "
                    "{ low = 1.0, high = 2.0 } or { values = [1.0, 2.0] }"
                )
                continue
            try:
                out.append((path, ParameterSpec.model_validate(value)))
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, f"sampler.parameters.'{path}'", ParameterSpec))

    walk(sampler.parameters, "")
    return out


def _check_range(path: str, spec: ParameterSpec, method: str, problems: list[str]) -> ParameterRange | None:
    info = parameter_info(path)
    what = f"sampler.parameters.'{path}'"
    n_before = len(problems)
    if path in RESERVED_KEYS:
        problems.append(f"{what}: may not be sampled: {RESERVED_KEYS[path]}")
    if path in TIME_GRID_KEYS:
        problems.append(
            f"{what}: may not be sampled: all runs of an experiment share one time grid "
            f"({', '.join(TIME_GRID_KEYS)}); run separate experiments instead"
        )
    has_bounds = spec.low is not None or spec.high is not None
    if spec.values is not None and has_bounds:
        problems.append(f"{what}: give either values or low/high, not both")
    if spec.values is not None:
        if not spec.values:
            problems.append(f"{what}.values: must not be empty")
        if method in ("sobol", "morris"):
            problems.append(f"{what}: {method} needs a numeric range (low, high), not a list of values")
        if spec.num is not None:
            problems.append(f"{what}.num = {spec.num}: only used with low/high (grid)")
    else:
        if spec.low is None or spec.high is None:
            missing = " and ".join(k for k in ("low", "high") if getattr(spec, k) is None)
            problems.append(f"{what}: {missing} missing; give low and high, or values")
        elif info.kind not in ("float", "int"):
            allowed = f" (allowed: {', '.join(map(repr, info.choices))})" if info.choices else ""
            problems.append(
                f"{what}: low/high need a numeric parameter, but {path} is {info.kind}{allowed}; use values = [...]"
            )
        else:
            if not (math.isfinite(spec.low) and math.isfinite(spec.high)):
                problems.append(f"{what}: low and high must be finite, got low = {spec.low!r}, high = {spec.high!r}")
            elif spec.low > spec.high:
                problems.append(f"{what}: low = {spec.low!r} is greater than high = {spec.high!r}; need low <= high")
            elif spec.low == spec.high and method in ("sobol", "morris"):
                problems.append(f"{what}: low = high = {spec.low!r}; {method} needs low < high")
            if spec.scale == "log" and spec.low <= 0:
                problems.append(f"{what}: scale = 'log' needs low > 0, got low = {spec.low!r}")
        if method == "grid" and spec.num is None:
            problems.append(f"{what}: a grid over low/high needs num (the number of points), or give values = [...]")
        if method == "grid" and spec.num is not None and spec.num < 2 and spec.low != spec.high:
            problems.append(f"{what}.num = {spec.num}: a grid between low and high needs num >= 2")
        if method != "grid" and spec.num is not None:
            problems.append(f"{what}.num = {spec.num}: only used by method = 'grid'")
    if len(problems) > n_before:
        return None
    values = None
    if spec.values is not None:
        values = tuple(spec.values)
    return ParameterRange(path, info, spec.low, spec.high, values, spec.num, spec.scale)


def _check_endpoints(r: ParameterRange, base: dict[str, Any], problems: list[str]) -> None:
    """Each bound (or listed value) of a parameter must be a valid config value on its own."""
    what = f"sampler.parameters.'{r.path}'"
    if r.values is not None:
        candidates = [(f"values[{i}]", v) for i, v in enumerate(r.values)]
    else:
        candidates = [("low", r.from_design(r.design_bounds[0])), ("high", r.from_design(r.design_bounds[1]))]
        if r.info.kind == "int":
            candidates = [("low", r.low), ("high", r.high)]
            candidates = [(k, int(v)) if float(v).is_integer() else (k, v) for k, v in candidates]
    for label, value in candidates:
        data = copy.deepcopy(base)
        set_dotted(data, r.path, value)
        _, p = _config_problems(data, f"{what}.{label}")
        problems.extend(p)


#: The keys of ``[sampler]`` a cohort sampler uses.
COHORT_SAMPLER_KEYS = ("method", "cohort", "n", "seed")


def _known_cohorts() -> str:
    return ", ".join(f"{name!r} ({spec.description})" for name, spec in COHORTS.items())


def cohort_base_settings(sampler: SamplerSection | None) -> dict[str, Any]:
    """The trial settings a valid cohort sampler puts into the base config (else nothing)."""
    if sampler is None or sampler.method != "cohort" or sampler.cohort not in COHORTS:
        return {}
    return cohort_settings(sampler.cohort)


def _validate_cohort_sampler(sampler: SamplerSection, root_seed: int, problems: list[str]) -> SampleSet | None:
    """``method = "cohort"``: ``cohort`` and ``n`` required, ``seed`` optional, nothing else."""
    n_before = len(problems)
    allowed = f"allowed keys with method = 'cohort': {', '.join(COHORT_SAMPLER_KEYS)}"
    for key in SamplerSection.model_fields:
        if key in COHORT_SAMPLER_KEYS or key not in sampler.model_fields_set:
            continue
        value = getattr(sampler, key)
        hint = ""
        if key == "parameters":
            hint = (
                " (the cohort draws its patients' attributes itself; set a value for every patient in [base] "
                "or in an arm)"
            )
        problems.append(f"sampler.{key} = {value!r}: not used with method = 'cohort'{hint}; {allowed}")
    if sampler.cohort is None:
        problems.append(f"sampler.cohort: required with method = 'cohort'; known cohorts: {_known_cohorts()}")
    elif sampler.cohort not in COHORTS:
        problems.append(f"sampler.cohort = {sampler.cohort!r}: unknown cohort; known cohorts: {_known_cohorts()}")
    if sampler.n is None:
        problems.append("sampler.n: required with method = 'cohort' (the number of virtual patients, >= 1)")
    if len(problems) > n_before:
        return None
    seed = root_seed if sampler.seed is None else sampler.seed
    return draw("cohort", [], n=sampler.n, seed=seed, cohort=sampler.cohort)


def _validate_sampler(
    sampler: SamplerSection, root_seed: int, base_dir: Path, base: dict[str, Any] | None, problems: list[str]
) -> SampleSet | None:
    method = sampler.method
    if method == "cohort":
        return _validate_cohort_sampler(sampler, root_seed, problems)
    n_before = len(problems)
    if sampler.cohort is not None:
        problems.append(f"sampler.cohort = {sampler.cohort!r}: only used with method = 'cohort', not {method!r}")
    params = _parse_parameters(sampler, problems)
    n = sampler.n
    if method == "none":
        if params:
            problems.append(
                "sampler.parameters: given but sampler.method is 'none'; choose a method: " + ", ".join(METHODS)
            )
        if sampler.file is not None:
            problems.append("sampler.file: only used with method = 'csv'")
        return SampleSet("none", [], [[]], meta={"method": "none"}) if len(problems) == n_before else None
    if method == "csv":
        if params:
            problems.append("sampler.parameters: not used with method = 'csv' (the CSV header names the parameters)")
        if n is not None:
            problems.append(f"sampler.n = {n}: not used with method = 'csv' (one sample per row)")
        if sampler.file is None:
            problems.append(
                "sampler.file: required with method = 'csv' (a CSV with a header of dotted parameter paths)"
            )
            return None
        path = (base_dir / sampler.file).resolve()
        if not path.is_file():
            what = "is a directory, not a CSV file" if path.is_dir() else "does not exist"
            problems.append(f"sampler.file = {sampler.file!r}: {str(path)!r} {what}")
            return None
        try:
            header, cells, labels = read_csv(path)
        except UnicodeDecodeError as exc:
            problems.append(f"sampler.file = {sampler.file!r}: not a text file (not UTF-8: byte {exc.start})")
            return None
        except (ValueError, OSError) as exc:
            problems.append(f"sampler.file = {sampler.file!r}: {exc}")
            return None
        for col in header:
            kind, _ = schema_node(Config, col)
            if kind != "leaf":
                problems.append(
                    unknown_key_message(Config, f"sampler.file {sampler.file!r}: column", col, "...").replace(
                        "unknown key", "unknown parameter path"
                    )
                )
            elif col in RESERVED_KEYS or col in TIME_GRID_KEYS:
                problems.append(f"sampler.file {sampler.file!r}: column {col!r} may not be sampled")
        if len(set(header)) != len(header):
            problems.append(f"sampler.file {sampler.file!r}: duplicate columns in the header")
        if len(problems) > n_before:
            return None
        rows = [[parse_value(c) for c in row] for row in cells]
        return draw("csv", [], n=None, seed=root_seed, csv_rows=(header, rows, labels))
    # grid, random, lhs, sobol, morris
    if sampler.file is not None:
        problems.append(f"sampler.file: only used with method = 'csv', not {method!r}")
    if not params and not (len(problems) > n_before):
        problems.append(f"sampler.parameters: method {method!r} needs at least one parameter")
    ranges = [r for path, spec in params if (r := _check_range(path, spec, method, problems)) is not None]
    for r in ranges if base is not None else []:
        _check_endpoints(r, base, problems)
    if method == "grid":
        if n is not None:
            problems.append(f"sampler.n = {n}: not used by method = 'grid' (the grid size is the product of the axes)")
    elif n is None:
        what = {"sobol": "base size N (a power of two)", "morris": "number of trajectories"}.get(
            method, "number of samples"
        )
        problems.append(f"sampler.n: required by method = {method!r} ({what})")
    if method == "sobol" and n is not None and not is_power_of_two(n):
        lower = 1 << (n.bit_length() - 1)
        problems.append(f"sampler.n = {n}: Sobol (Saltelli) sampling needs a power of two, e.g. {lower} or {lower * 2}")
    if method == "morris":
        if n is not None and n < 2:
            problems.append(f"sampler.n = {n}: Morris needs at least 2 trajectories")
        if sampler.levels % 2:
            problems.append(f"sampler.levels = {sampler.levels}: Morris needs an even number of levels (e.g. 4)")
    if method not in ("sobol",) and sampler.second_order:
        problems.append("sampler.second_order: only used with method = 'sobol'")
    if len(problems) > n_before:
        return None
    # The number of samples, from the axes alone: checked before anything is drawn or materialised.
    size, how = _design_size(method, ranges, n, sampler.second_order)
    if size > MAX_SAMPLES:
        problems.append(
            f"sampler: method {method!r} would make {size:,} samples ({how}); at most {MAX_SAMPLES:,} are allowed. "
            "Use fewer values or points per axis, a smaller n, or method = 'lhs' / 'random'"
        )
        return None
    seed = root_seed if sampler.seed is None else sampler.seed
    return draw(method, ranges, n=n, seed=seed, second_order=sampler.second_order, levels=sampler.levels)


#: Most samples a sampler may make (as ``sampler.n`` for random and Latin-hypercube draws).
MAX_SAMPLES = 10_000_000


def _design_size(method: str, ranges: list[ParameterRange], n: int | None, second_order: bool) -> tuple[int, str]:
    """How many samples a sampler makes, and how that number comes about (for the message)."""
    d = len(ranges)
    if method == "grid":
        axes = [len(r.values) if r.values is not None else int(r.num or 1) for r in ranges]
        return math.prod(axes), " x ".join(map(str, axes)) + " grid points"
    if method == "sobol":
        k = 2 * d + 2 if second_order else d + 2
        return int(n or 0) * k, f"n = {n} x {k}"
    if method == "morris":
        return int(n or 0) * (d + 1), f"n = {n} trajectories x {d + 1}"
    return int(n or 0), f"n = {n}"


def time_grid_problems(config: Config, prefix: str = "") -> list[str]:
    """Why the time grid of a config is refused by the command line and by experiments (empty when it is not).

    ``simulation.days`` must be a whole multiple of the record interval
    (``simulation.record_every_hours``), so that the output ends at ``days``
    rather than at the last record before it, and give at least two recorded
    time points (day 0 and one more). :func:`blinasim.simulate` itself runs any
    ``days`` (benchmarks use fractions of an interval); its output then ends at
    the last whole record interval.
    """
    sim = config.simulation
    every = sim.record_every_hours
    n = sim.days * 24.0 / every
    whole = round(n)
    step = every / 24.0
    if n < 1 - 1e-9:
        return [
            f"{prefix}simulation.days = {sim.days!r} gives a single recorded time point (a record every "
            f"{every:g} h, simulation.record_every_hours); need days >= {step:.6g} for at least two"
        ]
    if abs(n - whole) > 1e-9 * max(1.0, n):
        lo, hi = math.floor(n) * step, math.ceil(n) * step
        return [
            f"{prefix}simulation.days = {sim.days!r} is not a whole multiple of the record interval "
            f"({every:g} h = {step:.6g} days, simulation.record_every_hours), so the output would end at day "
            f"{lo:.6g}; use days = {lo:.6g} or {hi:.6g}"
        ]
    return []


def allocation_problems(allocation: dict[str, int], arms: list[str]) -> list[str]:
    """What is wrong with ``[experiment] allocation`` (arm name -> positive whole weight)."""
    problems = []
    for name, weight in allocation.items():
        if name not in arms:
            problems.append(
                f"experiment.allocation: {name!r} is not an arm of this experiment (arms: {', '.join(arms)})"
            )
        if weight < 1:
            problems.append(f"experiment.allocation.{name} = {weight!r}: must be a whole number >= 1")
    if len(allocation) < 2:
        problems.append(
            f"experiment.allocation = {allocation!r}: a randomised comparison needs at least 2 arms, "
            "e.g. {blinatumomab = 2, chemotherapy = 1}"
        )
    return problems


@dataclass
class ExperimentSpec:
    """The parsed, validated sections of an experiment file."""

    experiment: ExperimentSection
    sampler: SamplerSection
    output: OutputSection
    execution: ExecutionSection


def is_experiment_file(path: str | Path) -> bool:
    """Whether ``path`` is an experiment file rather than a config: a TOML table with a top-level
    key only an experiment has (``[experiment]``, ``[base]``, ``[[arm]]``, ``[sampler]``, ...).
    A file that cannot be read or parsed is not (the config reader reports why)."""
    try:
        data = read_toml(path)
    except ConfigError:
        return False
    return any(key in data for key in TOP_LEVEL_KEYS if key not in Config.model_fields)


def parse_experiment(data: dict[str, Any], base_dir: Path, source: str = "experiment") -> tuple[ExperimentSpec, Plan]:
    """Validate an experiment table and build its :class:`Plan`; raise :class:`ExperimentError`."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ExperimentError([f"{source}: expected a TOML table"])
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                f"unknown key '{key}' = {data[key]!r}; allowed top-level keys: {', '.join(USER_TOP_LEVEL_KEYS)}"
                + (" (config keys go under [base] or [[arm]])" if schema_node(Config, key)[0] != "unknown" else "")
            )
    exp = _section(data, "experiment", ExperimentSection, problems)
    sampler = _section(data, "sampler", SamplerSection, problems)
    output = _section(data, "output", OutputSection, problems)
    execution = _section(data, "execution", ExecutionSection, problems)

    # Base config: an optional file, overridden by inline keys.
    raw_base = data.get("base", {})
    base_cfg: Config | None = None
    if not isinstance(raw_base, dict):
        problems.append(f"'base' must be a table ([base]), got {raw_base!r}")
    else:
        raw_base = dict(raw_base)
        base_file = raw_base.pop("file", None)
        base_data: dict[str, Any] = {}
        if base_file is not None:
            if not isinstance(base_file, str):
                problems.append(f"base.file = {base_file!r}: must be a path (string)")
            else:
                p = (base_dir / base_file).resolve()
                if not p.exists():
                    problems.append(f"base.file = {base_file!r}: file {str(p)!r} does not exist")
                else:
                    try:
                        base_data = read_toml(p, f"base.file = {base_file!r}:")
                    except ConfigError as exc:
                        problems.extend(exc.problems)
        # A cohort sampler's trial settings (blinasim.trials.trial.cohort_settings) override the base file;
        # inline [base] keys override them, and arms override the base.
        for path, value in cohort_base_settings(sampler).items():
            set_dotted(base_data, path, value)
        inline_problems: list[str] = []
        inline = flatten_config(raw_base, "base", inline_problems)
        problems.extend(p + " (base has 'file' and config keys)" if "unknown key" in p else p for p in inline_problems)
        for path, value in inline.items():
            set_dotted(base_data, path, value)
        base_cfg, base_problems = _config_problems(base_data, "base")
        problems.extend(base_problems)
        if base_cfg is not None:
            problems.extend(time_grid_problems(base_cfg, "base: "))

    arms = _parse_arms(data.get("arm"), base_cfg or Config(), problems)

    failures: list[InjectedFailure] = []
    raw_fail = data.get("inject_failure", [])
    if isinstance(raw_fail, dict):
        raw_fail = [raw_fail]
    if not isinstance(raw_fail, list):
        problems.append(f"'inject_failure' must be a list of tables ([[inject_failure]]), got {raw_fail!r}")
        raw_fail = []
    for i, entry in enumerate(raw_fail):
        try:
            failures.append(InjectedFailure.model_validate(entry))
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, f"inject_failure[{i}]", InjectedFailure))

    # Keep going after problems so that one pass reports as many as possible.
    base_ok = base_cfg is not None
    root_seed = exp.seed if exp is not None and exp.seed is not None else (base_cfg or Config()).simulation.seed
    base_json = (base_cfg or Config()).model_dump(mode="python")
    base_json["simulation"]["seed"] = root_seed
    samples = None
    if sampler is not None:
        samples = _validate_sampler(sampler, root_seed, base_dir, base_json if base_ok else None, problems)

    # An arm and the sampler must not fight over a key.
    for arm in arms:
        clash = sorted(set(arm.overrides) & set(samples.parameters if samples is not None else []))
        if clash:
            problems.append(f"arm {arm.name!r} and the sampler both set {', '.join(clash)}; set each key in one place")
    # One time grid for every run.
    for arm in arms if base_ok else []:
        for key in TIME_GRID_KEYS:
            if key in arm.overrides and arm.overrides[key] != get_dotted(base_json, key):
                problems.append(
                    f"arm {arm.name!r}: {key} = {arm.overrides[key]!r} differs from the base "
                    f"({get_dotted(base_json, key)!r}); all runs of an experiment share one time grid "
                    f"({', '.join(TIME_GRID_KEYS)}): set it in [base]"
                )
    names = [a.name for a in arms]
    if exp is not None and exp.allocation is not None:
        problems.extend(allocation_problems(exp.allocation, names))
    for f in failures:
        if f.arm not in names:
            problems.append(
                f"inject_failure: arm = {f.arm!r} is not an arm of this experiment (arms: {', '.join(names)})"
            )
        if samples is not None and f.sample >= samples.n:
            problems.append(f"inject_failure: sample = {f.sample} out of range (0..{samples.n - 1})")
        if exp is not None and f.replicate >= exp.replicates:
            problems.append(f"inject_failure: replicate = {f.replicate} out of range (0..{exp.replicates - 1})")
    if problems or exp is None or samples is None or sampler is None or output is None or execution is None:
        raise ExperimentError(problems)

    if output.store is not None and not Path(output.store).is_absolute():
        # Like base.file and sampler.file: relative to the experiment file, not the working directory.
        output = output.model_copy(update={"store": str(base_dir / output.store)})
    plan = Plan(
        exp.name, exp.description, root_seed, exp.replicates, base_json, arms, samples, failures, exp.allocation or {}
    )
    _validate_all_configs(plan, samples, problems)
    if problems:
        raise ExperimentError(problems)
    return ExperimentSpec(exp, sampler, output, execution), plan


def _validate_all_configs(plan: Plan, samples: SampleSet, problems: list[str]) -> None:
    """Validate the config of every (arm, sample); list the first few problems and count the rest."""
    found: list[str] = []
    n_bad = 0
    for a, arm in enumerate(plan.arms):
        _, arm_problems = _config_problems(_arm_only(plan, a), f"arm {arm.name!r}")
        if arm_problems:
            found.extend(arm_problems)
            n_bad += 1
            continue
        if not samples.parameters:
            continue
        for s in range(plan.n_samples):
            sets = ", ".join(f"{k}={v!r}" for k, v in samples.overrides(s).items())
            _, p = _config_problems(plan.config_dict(a, s), f"arm {arm.name!r}, sample {s} ({sets})")
            if p:
                n_bad += 1
                found.extend(p)
    problems.extend(found[:MAX_LISTED_PROBLEMS])
    if len(found) > MAX_LISTED_PROBLEMS:
        problems.append(f"... and {len(found) - MAX_LISTED_PROBLEMS} more problems ({n_bad} invalid configs in all)")


def _arm_only(plan: Plan, arm: int) -> dict[str, Any]:
    data = copy.deepcopy(plan.base)
    for path, value in plan.arms[arm].overrides.items():
        set_dotted(data, path, value)
    return data
