"""The results store of an experiment: one preallocated Zarr group, written run by run.

Layout (see ``docs/experiments.md``):

- every variable of a run's Dataset, with the run dimensions in front:
  ``(arm, sample, replicate, *run dims)``, chunked 1 along ``arm``,
  ``sample`` and ``replicate`` and whole along the rest, so that every run
  owns its own chunks and runs can be written concurrently by different
  processes (or machines on a shared filesystem) without locks;
- ``run_status`` (0 pending, 1 done, 2 failed) and ``run_message``,
  ``run_seconds``, ``run_cpu_seconds``, ``run_write_seconds``, ``run_worker``
  and ``run_checksum`` per run;
- coordinates ``arm``, ``sample``, ``replicate``, the run coordinates
  (``time``, ``compartment``, ...), the sampled parameters as ordinary
  coordinates on ``sample`` (named by their dotted path), ``run_seed`` on
  ``(sample, replicate)``, and ``arm_overrides`` / ``arm_description`` on ``arm``.

The store is created complete (metadata and coordinates) under a temporary
name and renamed into place, so it either exists whole or not at all. Its
metadata never changes afterwards. A run is written in two steps: its data
into its region (``xarray.Dataset.to_zarr(region=...)``), then its
``run_*`` bookkeeping, ``run_status`` last. A run whose status is not "done"
is re-run by ``--resume``; chunk writes are atomic (write then rename), so a
killed writer leaves at worst a stale temporary file, never a torn chunk.

Integrity: ``run_checksum`` is a hash of a run's decoded arrays as written
(:func:`run_checksum`), recorded with its status. :func:`damaged_runs` reads
the done runs back and names those whose data no longer match (a deleted or
overwritten chunk, random bytes in one); ``status`` lists them, ``report``
refuses them and ``--resume`` re-runs them. Damaged metadata (a truncated
``zarr.json``) is a :class:`StoreError`, not a traceback.

Locking: a process that writes a store (a sweep, a resume) holds the lock
file ``.NAME.lock`` beside it (:func:`lock_store`), created with
``O_CREAT | O_EXCL`` and naming ``host:pid``; a second writer is refused with
a message naming the holder. A lock whose process is gone (on this host) is
stale and taken over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from blinasim.core.io import (
    OutputError,
    check_writable_dir,
    describe_os_error,
    make_partial_dir,
    write_dataset,
    writer_gone,
    writer_id,
)
from blinasim.errors import BlinasimError, arg
from blinasim.experiments.spec import Plan, parameter_info
from blinasim.params.paths import set_dotted
from blinasim.params.schema import validate_config

RUN_DIMS = ("arm", "sample", "replicate")
#: Dimensions whose length differs from run to run (the protocol event log, ``event_*`` on ``event``):
#: their variables stay in a run's Dataset and are not stored (re-run a run to see its events).
RAGGED_DIMS = ("event",)
PENDING, DONE, FAILED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", FAILED: "failed"}
STATUS_VAR = "run_status"
CHECKSUM_VAR = "run_checksum"
INFO_VARS = ("run_message", "run_seconds", "run_cpu_seconds", "run_write_seconds", "run_worker", CHECKSUM_VAR)
#: Variables that describe how a run went rather than what it computed.
BOOKKEEPING_VARS = (STATUS_VAR, *INFO_VARS)
#: /2: sharded (Zarr v3 sharding codec), runs staged then packed; /1: one chunk per run and variable
STORE_FORMAT = "blinasim-experiment-store/2"
#: The formats this code reads and continues (``--resume``).
STORE_FORMATS = ("blinasim-experiment-store/1", STORE_FORMAT)
#: Target uncompressed size of one shard of all the run variables together: a shard holds this many bytes
#: of runs (at least one (sample, replicate) of every arm), so a 10,000-run sweep is a few shards per variable.
SHARD_BYTES = 512 * 2**20
#: At most this many bytes of staged runs are held in memory while a shard is packed (variables in passes).
PACK_BYTES = 64 * 2**20
#: The directory in a store where finished runs wait, one file each, until their shard is packed.
STAGING = "_staging"
#: Variable-length strings (Zarr v3 "string"), without loading anything to find a dtype.
_STR = np.dtypes.StringDType()


class StoreError(BlinasimError):
    """A problem with a results store, with one readable line per problem."""


@contextlib.contextmanager
def quiet_zarr():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        yield


# ----------------------------------------------------------------- layout


@dataclass(frozen=True)
class VarSpec:
    """How one run variable is stored."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    #: "float", "int", "bool" (stored as float64, NaN when missing) or "str"
    kind: str
    #: numpy dtype string of the stored values ("float64", "int16", ...; "str" for strings)
    dtype: str
    attrs: dict[str, Any]

    @property
    def fill(self) -> Any:
        if self.kind in ("float", "bool"):
            return np.nan
        if self.kind == "int":
            info = np.iinfo(np.dtype(self.dtype))
            return info.min if info.min < 0 else info.max
        return ""


@dataclass(frozen=True)
class Layout:
    """Run variables and run coordinates of an experiment, discovered from real runs."""

    variables: dict[str, VarSpec]
    coords: dict[str, xr.Variable]

    @property
    def time(self) -> np.ndarray | None:
        return np.asarray(self.coords["time"].values) if "time" in self.coords else None


def _kind(dtype: np.dtype) -> tuple[str, str]:
    if dtype.kind == "b":
        return "bool", "float64"
    if dtype.kind == "f":
        return "float", dtype.name
    if dtype.kind in "iu":
        return "int", dtype.name
    if dtype.kind in "USOT":
        return "str", "str"
    raise StoreError(f"unsupported dtype {dtype} of a run variable")


def layout_from_datasets(datasets: list[xr.Dataset], variables: list[str] | None = None) -> Layout:
    """The union of the variables of some runs (e.g. one dry run per arm).

    ``variables`` keeps only these run variables (all by default); an unknown
    name is a :class:`StoreError` listing what exists.
    """
    specs: dict[str, VarSpec] = {}
    coords: dict[str, xr.Variable] = {}
    problems = []
    for ds in datasets:
        for name, var in ds.data_vars.items():
            name = str(name)
            if set(var.dims) & set(RAGGED_DIMS):
                continue
            if set(var.dims) & set(RUN_DIMS):
                problems.append(f"run variable {name!r} uses a reserved dimension name ({', '.join(RUN_DIMS)})")
                continue
            kind, dtype = _kind(var.dtype)
            spec = VarSpec(name, tuple(map(str, var.dims)), tuple(var.shape), kind, dtype, dict(var.attrs))
            old = specs.get(name)
            if old is not None and (old.dims, old.shape) != (spec.dims, spec.shape):
                problems.append(
                    f"run variable {name!r} has dims {old.dims} {old.shape} in one run, {spec.dims} {spec.shape} in another"
                )
            specs.setdefault(name, spec)
        for name, coord in ds.coords.items():
            name = str(name)
            if set(coord.dims) & set(RAGGED_DIMS):
                continue
            if name in coords:
                if coord.dims != coords[name].dims or not np.array_equal(coord.values, coords[name].values):
                    problems.append(f"run coordinate {name!r} differs between runs (the time grid must be shared)")
            else:
                coords[name] = coord.variable.copy(deep=True)
    if variables is not None:
        unknown = [v for v in variables if v not in specs]
        if unknown:
            problems.append(
                f"output.variables: unknown run variable(s) {', '.join(map(repr, unknown))}; "
                f"a run has: {', '.join(sorted(specs))}"
            )
        specs = {k: v for k, v in specs.items() if k in variables}
    if problems:
        raise StoreError(problems)
    for spec in specs.values():
        for d, n in zip(spec.dims, spec.shape, strict=True):
            if d in coords and coords[d].dims == (d,) and coords[d].size != n:
                raise StoreError(
                    f"run variable {spec.name!r}: dimension {d!r} has {n} entries, its coordinate {coords[d].size}"
                )
    used = {d for s in specs.values() for d in s.dims}
    coords = {k: v for k, v in coords.items() if set(v.dims) <= used}
    return Layout(dict(sorted(specs.items())), coords)


# --------------------------------------------------------------- creating


def _parameter_coordinate(path: str, values: list[Any]) -> xr.Variable:

    info = parameter_info(path)
    if info.kind == "float":
        data = np.asarray(values, dtype=np.float64)
    elif info.kind == "int":
        data = np.asarray(values, dtype=np.int64)
    elif info.kind == "bool":
        data = np.asarray(values, dtype=bool)
    elif info.kind in ("str", "choice") and all(isinstance(v, str) for v in values):
        data = np.asarray(values, dtype=str)
    else:
        data = np.asarray([json.dumps(v, default=str) for v in values], dtype=str)
    attrs = {"long_name": info.description or path, "parameter_path": path}
    if info.unit:
        attrs["units"] = info.unit
    return xr.Variable(("sample",), data, attrs=attrs)


def _versions() -> dict[str, str]:
    import importlib.metadata

    out = {}
    for pkg in ("blinasim", "numpy", "numba", "mesa", "xarray", "zarr"):
        try:
            out[f"{pkg}_version"] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[f"{pkg}_version"] = "unknown"
    return out


def run_bytes(layout: Layout) -> int:
    """Uncompressed bytes of one run's variables (strings counted as 64 bytes), plus its bookkeeping."""
    total = 256
    for spec in layout.variables.values():
        size = int(np.prod(spec.shape, dtype=np.int64))
        total += size * (64 if spec.kind == "str" else np.dtype(spec.dtype).itemsize)
    return total


def shard_block(n_arms: int, n_samples: int, replicates: int, per_run: int, shard_bytes: int = SHARD_BYTES):
    """Runs per shard along (arm, sample, replicate), in the submission order of :meth:`Plan.runs`
    (replicate-major, arms innermost): every arm, then whole samples, then whole replicates, so that
    the runs of a shard finish together and a shard is packed once."""
    k = max(n_arms, shard_bytes // max(per_run, 1))
    if k >= n_arms * n_samples:
        return n_arms, n_samples, max(1, min(replicates, k // (n_arms * n_samples)))
    return n_arms, max(1, k // n_arms), 1


def build_template(
    plan: Plan, layout: Layout, *, experiment_text: str | None = None, shard_bytes: int = SHARD_BYTES
) -> tuple[xr.Dataset, dict]:
    """The lazily-filled Dataset (and encodings) that :func:`create_store` writes.

    Every array with run dimensions is one chunk per run inside shards of :func:`shard_block` runs
    (the Zarr v3 sharding codec): a few files per variable, while a run is still read alone.
    """
    import dask.array as da

    na, ns, nr = plan.n_arms, plan.n_samples, plan.replicates
    block = shard_block(na, ns, nr, run_bytes(layout), shard_bytes)
    data_vars: dict[str, Any] = {}
    encoding: dict[str, dict[str, Any]] = {}
    for spec in layout.variables.values():
        shape = (na, ns, nr, *spec.shape)
        chunks = block + tuple(spec.shape)  # dask chunks: whole shards
        inner = (1, 1, 1, *spec.shape)
        attrs = dict(spec.attrs)
        if spec.kind == "bool":
            attrs["run_dtype"] = "bool"
            attrs.setdefault("flag_values", [0, 1])
            attrs.setdefault("flag_meanings", "false true")
        if spec.kind == "str":
            arr = da.full(shape, "", chunks=chunks, dtype=_STR)
            encoding[spec.name] = {"chunks": inner, "shards": chunks}
        else:
            arr = da.full(shape, spec.fill, chunks=chunks, dtype=spec.dtype)
            encoding[spec.name] = {"chunks": inner, "shards": chunks, "_FillValue": spec.fill}
        data_vars[spec.name] = xr.Variable((*RUN_DIMS, *spec.dims), arr, attrs=attrs)
    run_shape, run_chunks = (na, ns, nr), block
    run_enc = {"chunks": (1, 1, 1), "shards": block}
    data_vars[STATUS_VAR] = xr.Variable(
        RUN_DIMS,
        da.full(run_shape, PENDING, chunks=run_chunks, dtype=np.int8),
        attrs={
            "long_name": "status of the run (written last)",
            "units": "1",
            "flag_values": [PENDING, DONE, FAILED],
            "flag_meanings": "pending done failed",
        },
    )
    encoding[STATUS_VAR] = {**run_enc, "_FillValue": None}
    info_attrs = {
        "run_message": ("", _STR, {"long_name": "failure message of the run (empty when done)", "units": "1"}),
        "run_seconds": (np.nan, np.float64, {"long_name": "wall time of the simulation of the run", "units": "s"}),
        "run_cpu_seconds": (
            np.nan,
            np.float64,
            {"long_name": "CPU time of the worker process (all its threads) during the simulation", "units": "s"},
        ),
        "run_write_seconds": (
            np.nan,
            np.float64,
            {"long_name": "wall time of writing the run's data into the store", "units": "s"},
        ),
        "run_worker": ("", _STR, {"long_name": "host:pid of the process that ran the run", "units": "1"}),
        CHECKSUM_VAR: (
            "",
            _STR,
            {"long_name": "BLAKE2b hash of the run's decoded arrays as written (empty unless done)", "units": "1"},
        ),
    }
    for name, (fill, dtype, attrs) in info_attrs.items():
        data_vars[name] = xr.Variable(RUN_DIMS, da.full(run_shape, fill, chunks=run_chunks, dtype=dtype), attrs=attrs)
        encoding[name] = dict(run_enc) if dtype is _STR else {**run_enc, "_FillValue": fill}

    coords: dict[str, Any] = {
        "arm": xr.Variable(("arm",), np.asarray([a.name for a in plan.arms], dtype=str), {"long_name": "arm"}),
        "sample": xr.Variable(("sample",), np.arange(ns, dtype=np.int64), {"long_name": "sample (parameter set)"}),
        "replicate": xr.Variable(("replicate",), np.arange(nr, dtype=np.int64), {"long_name": "replicate"}),
        "arm_overrides": xr.Variable(
            ("arm",),
            np.asarray([json.dumps(a.overrides, sort_keys=True, default=str) for a in plan.arms], dtype=str),
            {"long_name": "config overrides of the arm (JSON, dotted keys)"},
        ),
        "arm_description": xr.Variable(
            ("arm",), np.asarray([a.description for a in plan.arms], dtype=str), {"long_name": "arm description"}
        ),
        "run_seed": xr.Variable(
            ("sample", "replicate"),
            np.asarray([[plan.seed(s, r) for r in range(nr)] for s in range(ns)], dtype=np.int64),
            {"long_name": "run seed: SeedSequence(root_seed, spawn_key=(sample, replicate)); shared by all arms"},
        ),
    }
    samples = plan.samples
    for j, path in enumerate(samples.parameters):
        coords[path] = _parameter_coordinate(path, [row[j] for row in samples.rows])
    if samples.labels is not None:
        coords["sample_label"] = xr.Variable(
            ("sample",), np.asarray(samples.labels, dtype=str), {"long_name": "sample label"}
        )
    coords.update(layout.coords)
    if samples.design is not None:
        data_vars["sampler_design"] = xr.Variable(
            ("sample", "parameter"),
            samples.design,
            {"long_name": "design matrix as drawn (log10 for log-scale parameters), for sensitivity analysis"},
        )
        coords["parameter"] = xr.Variable(("parameter",), np.asarray(samples.parameters, dtype=str))
    attrs = {
        "title": f"blinasim experiment {plan.name}",
        "store_format": STORE_FORMAT,
        "experiment_name": plan.name,
        "experiment_description": plan.description,
        "fingerprint": plan.fingerprint,
        "root_seed": plan.root_seed,
        "replicates": plan.replicates,
        "n_runs": plan.n_runs,
        "parameters": json.dumps(samples.parameters),
        "sampler": json.dumps(samples.meta, default=str),
        "base_config": json.dumps(plan.base, sort_keys=True, default=str),
        "plan": json.dumps(plan.identity(), sort_keys=True, default=str),
        "seeds": "run seed = SeedSequence(root_seed, spawn_key=(sample, replicate)), independent of the arm",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "shard_runs": list(block),
        "Conventions": "CF-1.10",
        **_versions(),
    }
    if plan.allocation:  # a randomised comparison (blinasim.experiments.trial_report)
        attrs["allocation"] = json.dumps(plan.allocation)
    if experiment_text is not None:
        attrs["experiment_toml"] = experiment_text
    return xr.Dataset(data_vars, coords=coords, attrs=attrs), encoding


def create_store(
    path: str | os.PathLike,
    plan: Plan,
    layout: Layout,
    *,
    experiment_text: str | None = None,
    shard_bytes: int = SHARD_BYTES,
    shard_runs: int | None = None,
) -> Path:
    """Preallocate the store of ``plan`` at ``path``: all or nothing, never overwriting.

    A shard holds about ``shard_bytes`` of run data, or ``shard_runs`` runs when given
    (``output.shard_runs``; rounded to whole (sample, replicate) rows of every arm).
    """
    if shard_runs is not None:
        shard_bytes = int(shard_runs) * run_bytes(layout)
    target = Path(path)
    if target.exists():
        raise StoreError(f"store {str(target)!r} already exists")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(f"store {str(target)!r}: directory {str(parent)!r} does not exist")
    template, encoding = build_template(plan, layout, experiment_text=experiment_text, shard_bytes=shard_bytes)
    try:
        tmp = make_partial_dir(target)
    except OSError as exc:
        raise StoreError(f"cannot create store {str(target)!r}: {describe_os_error(exc)}") from None
    try:
        with quiet_zarr():
            template.to_zarr(tmp / "store", mode="w-", compute=False, consolidated=True, encoding=encoding)
        try:
            os.replace(tmp / "store", target)
        except OSError:
            if target.exists():  # another process made it meanwhile (ENOTEMPTY / EEXIST)
                raise StoreError(
                    f"store {str(target)!r} was created by another process while this one prepared it; "
                    f"continue it with {arg('resume', True)}, or choose another path"
                ) from None
            raise
    except OSError as exc:
        raise StoreError(
            f"cannot create store {str(target)!r}: {describe_os_error(exc)}; nothing was written"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# ---------------------------------------------------------------- locking


def lock_path(store: str | os.PathLike) -> Path:
    """The lock file of a store: ``.NAME.lock`` beside it."""
    p = Path(store)
    return p.with_name(f".{p.name}.lock")


@contextlib.contextmanager
def lock_store(store: str | os.PathLike):
    """Hold the write lock of ``store`` (it need not exist yet) for the ``with`` block.

    Raises :class:`StoreError` naming the holder when another live process holds it.
    A lock left by a process that is gone (on this host) is stale and taken over.
    """
    lock = lock_path(store)
    me = writer_id()
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = lock.read_text().strip()
            except OSError:
                holder = ""
            if holder and writer_gone(holder):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)
                continue
            raise StoreError(
                f"store {str(store)!r} is being written by another blinasim process "
                f"({holder or 'unknown'}, lock file {str(lock)!r}); wait until it has finished, or, if no such "
                "process is running any more, remove the lock file"
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot lock store {str(store)!r} ({str(lock)!r}): {describe_os_error(exc)}") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(me)
        break
    else:  # pragma: no cover - three stale locks in a row
        raise StoreError(f"cannot lock store {str(store)!r}: the lock file {str(lock)!r} keeps reappearing")
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            if lock.read_text().strip() == me:
                os.unlink(lock)


def check_store_writable(store: str | os.PathLike) -> None:
    """Raise :class:`StoreError` unless the store (or, before it exists, its directory) can be written."""
    p = Path(store)
    target = p if p.exists() else (p.parent if str(p.parent) else Path("."))
    try:
        check_writable_dir(target, f"store {str(p)!r}")
    except OutputError as exc:
        raise StoreError(exc.marked) from None


# ---------------------------------------------------------------- reading


def open_store(path: str | os.PathLike) -> xr.Dataset:
    """The raw store as a lazy Dataset (pending and failed runs hold fill values)."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise StoreError(f"store {str(p)!r} does not exist (a sweep's --out, or the experiment's output.store)")
    if not (p / "zarr.json").is_file():
        raise StoreError(f"{str(p)!r} is not a blinasim experiment store (no zarr.json)")
    try:
        with quiet_zarr():
            ds = xr.open_zarr(p, consolidated=True, chunks=None)
    except Exception as exc:  # truncated or garbled metadata: JSONDecodeError, KeyError, ...
        raise StoreError(_damaged_metadata(p, exc)) from None
    if ds.attrs.get("store_format") not in STORE_FORMATS:
        raise StoreError(f"{str(p)!r} is a Zarr store but not a blinasim experiment store")
    # Dask chunks of whole shards (a few per variable), not of the one-run inner chunks.
    # A fresh token: xarray would otherwise hash every array to name its dask chunks (slow for big stores).
    import uuid

    block = ds.attrs.get("shard_runs", (1, 1, 1))
    chunks = {d: int(b) for d, b in zip(RUN_DIMS, block, strict=True) if d in ds.dims}
    return ds.chunk(chunks, token=uuid.uuid4().hex)


def _damaged_metadata(path: Path, exc: BaseException) -> str:
    return (
        f"store {str(path)!r}: its metadata cannot be read ({type(exc).__name__}: {exc}); the store is damaged "
        "and cannot be used. Run the experiment into a new store"
    )


def open_results(path: str | os.PathLike, *, mask: bool = True) -> xr.Dataset:
    """Open an experiment store as an ``xarray.Dataset`` (lazy, dask-backed).

    With ``mask=True`` (default), every run variable of a run that is not
    "done" is NaN (numeric) or "" (strings), whatever a failed write left.
    """
    ds = open_store(path)
    if not mask:
        return ds
    import dask.array as da

    done = ds[STATUS_VAR].data == DONE
    masked = {}
    for name in run_variables(ds):
        var = ds[name].variable
        if var.dtype.kind in "fc":
            keep = done.reshape(done.shape + (1,) * (var.ndim - 3))
            masked[name] = xr.Variable(var.dims, da.where(keep, var.data, np.nan), var.attrs, var.encoding)
    return ds.assign(masked)


def run_variables(ds: xr.Dataset) -> list[str]:
    """The simulated variables of a store (everything with run dims except bookkeeping)."""
    return [str(n) for n, v in ds.data_vars.items() if v.dims[:3] == RUN_DIMS and n not in BOOKKEEPING_VARS]


def read_status(path: str | os.PathLike) -> np.ndarray:
    """The ``run_status`` array (arm, sample, replicate), read fresh from disk.

    A status chunk that cannot be read (damaged) counts as pending, so ``--resume`` re-runs that run.
    """
    import zarr

    try:
        with quiet_zarr():
            g = zarr.open_group(str(path), mode="r")
            arr = g[STATUS_VAR]
    except Exception as exc:
        raise StoreError(_damaged_metadata(Path(path), exc)) from None
    with quiet_zarr():
        try:
            return np.asarray(arr[...], dtype=np.int8)
        except Exception:
            out = np.full(arr.shape, PENDING, dtype=np.int8)
            for idx in np.ndindex(*arr.shape):
                with contextlib.suppress(Exception):
                    out[idx] = arr[idx]
            return out


def store_attrs(path: str | os.PathLike) -> dict[str, Any]:
    return dict(open_store(path).attrs)


@lru_cache(maxsize=8)
def _layout_cached(path: str, fingerprint: str, mtime_ns: int) -> Layout:
    ds = open_store(path)
    if ds.attrs.get("fingerprint") != fingerprint:
        raise StoreError(
            f"store {path!r} belongs to another experiment (fingerprint {ds.attrs.get('fingerprint')}, "
            f"expected {fingerprint})"
        )
    specs = {}
    for name in run_variables(ds):
        var = ds[name]
        kind = "bool" if var.attrs.get("run_dtype") == "bool" else None
        enc_dtype = np.dtype(var.encoding.get("dtype", var.dtype))
        if kind is None:
            kind, dtype = _kind(enc_dtype)
        else:
            dtype = "float64"
        specs[name] = VarSpec(name, tuple(map(str, var.dims[3:])), tuple(var.shape[3:]), kind, dtype, {})
    coords = {}
    for name, coord in ds.coords.items():
        if not set(coord.dims) & {"arm", "sample", "replicate", "parameter"}:
            coords[str(name)] = coord.variable.load().copy()
    return Layout(specs, coords)


def store_layout(path: str | os.PathLike, fingerprint: str) -> Layout:
    """The layout of an existing store (cached per process), checking it is the expected experiment."""
    p = Path(path).resolve()
    return _layout_cached(str(p), fingerprint, (p / "zarr.json").stat().st_mtime_ns)


# ---------------------------------------------------------------- integrity


def _hash_array(h: Any, name: str, values: Any) -> None:
    arr = np.asarray(values)
    h.update(name.encode() + b"\0")
    if arr.dtype.kind in "OTUS":
        h.update(b"str" + repr(arr.shape).encode())
        for v in arr.ravel().tolist():
            b = str(v).encode()
            h.update(len(b).to_bytes(8, "little") + b)
        return
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), np.nan, arr).astype(arr.dtype)  # one NaN bit pattern (the fill's)
    h.update(arr.dtype.str.encode() + repr(arr.shape).encode())
    h.update(np.ascontiguousarray(arr).tobytes())


def run_checksum(arrays: dict[str, Any]) -> str:
    """BLAKE2b (128 bit, hex) of one run's arrays (name -> decoded values without the run dims), in name order."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(arrays):
        _hash_array(h, name, arrays[name])
    return h.hexdigest()


def region_checksum(region_ds: xr.Dataset, layout: Layout) -> str:
    """:func:`run_checksum` of a run as :func:`write_run_data` writes it (absent variables at their fill)."""
    arrays: dict[str, Any] = {}
    for name, spec in layout.variables.items():
        if name in region_ds.data_vars:
            arrays[name] = np.asarray(region_ds[name].values)[0, 0, 0]
        elif spec.kind == "str":
            arrays[name] = np.full(spec.shape, "", dtype=object)
        else:
            arrays[name] = np.full(spec.shape, spec.fill, dtype=spec.dtype)
    return run_checksum(arrays)


def damaged_runs(path: str | os.PathLike, status: np.ndarray | None = None) -> list[tuple[int, int, int, str]]:
    """Done runs whose data on disk no longer match their ``run_checksum``: ``(arm, sample, replicate, why)``.

    Reads every run variable once. A store written before checksums existed has none to check (empty list).
    """
    import zarr

    status = read_status(path) if status is None else status
    done = [tuple(int(i) for i in idx) for idx in np.argwhere(status == DONE)]
    if not done:
        return []
    try:
        with quiet_zarr():
            g = zarr.open_group(str(path), mode="r", use_consolidated=True)
            names = sorted(run_variables(open_store(path)))
            if CHECKSUM_VAR not in g:
                return []
            recorded = g[CHECKSUM_VAR]
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(_damaged_metadata(Path(path), exc)) from None
    damaged: dict[tuple[int, int, int], str] = {}
    expected: dict[tuple[int, int, int], str] = {}
    with quiet_zarr():
        try:
            rec = recorded[...]
            for idx in done:
                expected[idx] = str(rec[idx])
        except Exception:
            for idx in done:
                try:
                    expected[idx] = str(recorded[idx])
                except Exception as exc:
                    damaged[idx] = f"its checksum cannot be read ({type(exc).__name__})"
        hashers = {idx: hashlib.blake2b(digest_size=16) for idx in done if expected.get(idx)}
        for name in names:
            arr = g[name]
            try:
                values = arr[...]
                per_run = {idx: values[idx] for idx in hashers}
            except Exception:
                per_run = {}
                for idx in hashers:
                    try:
                        per_run[idx] = arr[idx]
                    except Exception as exc:
                        damaged.setdefault(idx, f"variable {name!r} cannot be read ({type(exc).__name__}: {exc})")
            for idx, v in per_run.items():
                _hash_array(hashers[idx], name, v)
    for idx, h in hashers.items():
        if idx not in damaged and h.hexdigest() != expected[idx]:
            damaged[idx] = "its data no longer match the checksum written with it (a chunk deleted or changed)"
    return sorted((a, s, r, why) for (a, s, r), why in damaged.items())


def format_damaged(arms: list[str], damaged: list[tuple[int, int, int, str]], limit: int = 10) -> list[str]:
    """One line per damaged run (at most ``limit``), naming it."""
    lines = [f"damaged: arm {arms[a]!r}, sample {s}, replicate {r}: {why}" for a, s, r, why in damaged[:limit]]
    if len(damaged) > limit:
        lines.append(f"... and {len(damaged) - limit} more damaged runs")
    return lines


# ---------------------------------------------------------------- writing


def _region(index: tuple[int, int, int]) -> dict[str, slice]:
    return {d: slice(i, i + 1) for d, i in zip(RUN_DIMS, index, strict=True)}


def run_region_dataset(ds: xr.Dataset, layout: Layout) -> tuple[xr.Dataset, list[str]]:
    """One run's Dataset as the region of the store it goes to; also the names of dropped variables
    (not in the layout; the event log, on :data:`RAGGED_DIMS`, is never stored and not listed)."""
    problems = []
    if layout.time is not None:
        t = ds["time"].values if "time" in ds.coords else None
        if t is None or t.shape != layout.time.shape or not np.array_equal(t, layout.time):
            n = None if t is None else t.size
            problems.append(
                f"the run's time grid ({n} points) differs from the store's ({layout.time.size} points); "
                "every run of an experiment must share simulation.days and the clocks"
            )
    out = {}
    for name, spec in layout.variables.items():
        if name not in ds.data_vars:
            continue  # stays at its fill value (NaN): the run does not have it
        var = ds[name].variable
        if tuple(map(str, var.dims)) != spec.dims or tuple(var.shape) != spec.shape:
            problems.append(
                f"run variable {name!r} has dims {var.dims} {var.shape}; the store expects {spec.dims} {spec.shape}"
            )
            continue
        values = np.asarray(var.values)
        if spec.kind == "str":
            values = np.asarray(values.astype(str), dtype=object)
        else:
            values = values.astype(spec.dtype)
        out[name] = xr.Variable((*RUN_DIMS, *spec.dims), values[np.newaxis, np.newaxis, np.newaxis])
    if problems:
        raise StoreError(problems)
    dropped = sorted(
        str(n) for n, v in ds.data_vars.items() if n not in layout.variables and not set(v.dims) & set(RAGGED_DIMS)
    )
    return xr.Dataset(out), dropped


def write_run_data(path: str | os.PathLike, index: tuple[int, int, int], region_ds: xr.Dataset) -> None:
    """Write one run's variables into its own region of the store."""
    with quiet_zarr():
        region_ds.to_zarr(str(path), region=_region(index), mode="r+", consolidated=True)


def write_run_status(
    path: str | os.PathLike,
    index: tuple[int, int, int],
    status: int,
    *,
    message: str = "",
    seconds: float = float("nan"),
    cpu_seconds: float = float("nan"),
    write_seconds: float = float("nan"),
    worker: str = "",
    checksum: str = "",
) -> None:
    """Write the bookkeeping of one run, ``run_status`` strictly last."""
    import zarr

    a, s, r = index
    with quiet_zarr():
        g = zarr.open_group(str(path), mode="r+", use_consolidated=True)
        g["run_message"][a, s, r] = message
        g["run_seconds"][a, s, r] = seconds
        g["run_cpu_seconds"][a, s, r] = cpu_seconds
        g["run_write_seconds"][a, s, r] = write_seconds
        g["run_worker"][a, s, r] = worker
        if CHECKSUM_VAR in g:  # stores written before checksums have none
            g[CHECKSUM_VAR][a, s, r] = checksum
        g[STATUS_VAR][a, s, r] = np.int8(status)


# ---------------------------------------------------------------- staging and packing
#
# Many runs share a shard, and a shard file is rewritten whole, so exactly one process writes the
# Zarr arrays of a store: the process that drives the sweep. A worker (or, with ``write = "parent"``,
# the parent) *stages* each finished run as one file ``STAGING/A_S_R.npz`` (written to a temporary
# name, then renamed: it exists whole or not at all). The parent *packs* staged runs into their shard
# once every run of the shard in this sweep has finished (and whatever is staged when a sweep ends
# or is interrupted): one block write per shard and variable, then the bookkeeping, ``run_status``
# last, then the staging files are removed. A run is "done" only once packed; a sweep killed with
# runs staged packs them when it is resumed (:func:`pack_staged` of every staged run), so no
# finished run is lost and the resumed store is bit-identical to an uninterrupted one.


def staging_dir(store: str | os.PathLike) -> Path:
    return Path(store) / STAGING


def _staged_file(store: str | os.PathLike, index: tuple[int, int, int]) -> Path:
    a, s, r = index
    return staging_dir(store) / f"{a}_{s}_{r}.npz"


def staged_runs(store: str | os.PathLike) -> dict[tuple[int, int, int], Path]:
    """The runs waiting in the staging directory to be packed: index -> file."""
    d = staging_dir(store)
    out = {}
    if d.is_dir():
        for f in d.glob("*.npz"):
            parts = f.stem.split("_")
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                out[(int(parts[0]), int(parts[1]), int(parts[2]))] = f
    return out


def stage_run(
    store: str | os.PathLike,
    index: tuple[int, int, int],
    region_ds: xr.Dataset,
    layout: Layout,
    *,
    seconds: float = float("nan"),
    cpu_seconds: float = float("nan"),
    worker: str = "",
    t_start: float | None = None,
) -> str:
    """Stage one finished run (its region, :func:`run_region_dataset`) for packing; return its checksum."""
    import time
    import uuid

    t0 = time.perf_counter() if t_start is None else t_start
    arrays: dict[str, np.ndarray] = {}
    for name, spec in layout.variables.items():
        if name in region_ds.data_vars:
            values = np.asarray(region_ds[name].values)[0, 0, 0, ...]
            arrays[f"v_{name}"] = values.astype(object).astype(str) if spec.kind == "str" else values
    checksum = region_checksum(region_ds, layout)
    d = staging_dir(store)
    d.mkdir(exist_ok=True)
    target = _staged_file(store, index)
    tmp = d / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        meta = {"seconds": seconds, "cpu_seconds": cpu_seconds, "worker": worker, "checksum": checksum}
        with open(tmp, "wb") as fh:
            meta["write_seconds"] = time.perf_counter() - t0
            np.savez(fh, __meta__=np.asarray(json.dumps(meta)), **arrays)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return checksum


def store_shard_block(path: str | os.PathLike) -> tuple[int, int, int]:
    """Runs per shard along (arm, sample, replicate) of a store ((1, 1, 1) for an unsharded one)."""
    return tuple(int(b) for b in store_attrs(path).get("shard_runs", (1, 1, 1)))  # type: ignore[return-value]


def shard_of(index: tuple[int, int, int], block: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(i // b for i, b in zip(index, block, strict=True))  # type: ignore[return-value]


def _read_block(arr: Any, sl: tuple[slice, ...], as_object: bool) -> np.ndarray:
    """A block of a Zarr array; a run whose chunk cannot be read (damaged) reads as the fill value."""
    try:
        out = np.asarray(arr[sl])
    except Exception:
        shape = tuple(x.stop - x.start for x in sl) + tuple(arr.shape[len(sl) :])
        fill = arr.fill_value
        out = np.full(shape, "" if as_object else fill, dtype=object if as_object else arr.dtype)
        for local in np.ndindex(*shape[: len(sl)]):
            with contextlib.suppress(Exception):
                out[local] = arr[tuple(x.start + i for x, i in zip(sl, local, strict=True))]
    return out.astype(object) if as_object else out


def pack_staged(
    path: str | os.PathLike, layout: Layout, indices: list[tuple[int, int, int]] | None = None
) -> list[tuple[int, int, int]]:
    """Move staged runs (``indices``, or every staged run) into their shards; return the runs now done.

    Per shard: every variable's block is read, the staged runs put in (variables a run lacks at their
    fill value) and written back whole; then the bookkeeping, ``run_status`` last; then the staging
    files are removed. A staged file that cannot be read or whose data do not match its checksum is
    removed and its run stays pending (``--resume`` runs it again).
    """
    import zarr

    staged = staged_runs(path)
    if indices is None:  # a resume, under the store's lock: no writer is alive, temporary files are stale
        for tmp in staging_dir(path).glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    if indices is not None:
        wanted = set(indices)
        staged = {i: f for i, f in staged.items() if i in wanted}
    if not staged:
        return []
    with quiet_zarr():
        g = zarr.open_group(str(path), mode="r+", use_consolidated=True)
    block = tuple(int(b) for b in g.attrs.get("shard_runs", (1, 1, 1)))
    shape = tuple(g[STATUS_VAR].shape)
    shards: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}
    for idx in sorted(staged):
        shards.setdefault(shard_of(idx, block), []).append(idx)  # type: ignore[arg-type]
    names = sorted(layout.variables)
    per_run = max(1, run_bytes(layout))
    done: list[tuple[int, int, int]] = []
    for shard, runs in sorted(shards.items()):
        sl = tuple(slice(k * b, min((k + 1) * b, n)) for k, b, n in zip(shard, block, shape, strict=True))
        metas: dict[tuple[int, int, int], dict[str, Any]] = {}
        for idx in runs:
            try:
                with np.load(staged[idx]) as z:
                    metas[idx] = json.loads(str(z["__meta__"]))
            except Exception:
                staged[idx].unlink(missing_ok=True)  # unreadable: the run runs again
        runs = [i for i in runs if i in metas]
        hashers = {idx: hashlib.blake2b(digest_size=16) for idx in runs}
        # Variables in passes of at most PACK_BYTES of staged runs, in name order (the checksum's order).
        per_pass = max(1, PACK_BYTES // max(1, per_run // max(1, len(names))) // max(1, len(runs)))
        with quiet_zarr():
            for start in range(0, len(names), per_pass):
                group = names[start : start + per_pass]
                blocks = {name: _read_block(g[name], sl, layout.variables[name].kind == "str") for name in group}
                for idx in runs:
                    local = tuple(i - s.start for i, s in zip(idx, sl, strict=True))
                    with np.load(staged[idx]) as z:
                        for name in group:
                            spec = layout.variables[name]
                            key = f"v_{name}"
                            if key in z.files:
                                value = z[key]
                                value = value.astype(object) if spec.kind == "str" else value
                            elif spec.kind == "str":
                                value = np.full(spec.shape, "", dtype=object)
                            else:
                                value = np.full(spec.shape, spec.fill, dtype=spec.dtype)
                            blocks[name][local] = value
                            _hash_array(hashers[idx], name, value)
                for name in group:
                    g[name][sl] = blocks[name]
            good = [idx for idx in runs if hashers[idx].hexdigest() == metas[idx]["checksum"]]
            strings = ("run_message", "run_worker", CHECKSUM_VAR)
            info = {name: _read_block(g[name], sl, name in strings) for name in (*INFO_VARS, STATUS_VAR) if name in g}
            for idx in good:
                local = tuple(i - s.start for i, s in zip(idx, sl, strict=True))
                m = metas[idx]
                info["run_message"][local] = ""
                info["run_seconds"][local] = m["seconds"]
                info["run_cpu_seconds"][local] = m["cpu_seconds"]
                info["run_write_seconds"][local] = m["write_seconds"]
                info["run_worker"][local] = m["worker"]
                if CHECKSUM_VAR in info:
                    info[CHECKSUM_VAR][local] = m["checksum"]
                info[STATUS_VAR][local] = DONE
            for name in (*INFO_VARS, STATUS_VAR):  # run_status last
                if name in info:
                    g[name][sl] = info[name]
        for idx in runs:
            staged[idx].unlink(missing_ok=True)
        done.extend(good)
    with contextlib.suppress(OSError):
        staging_dir(path).rmdir()  # only when empty: nothing is left waiting
    return sorted(done)


# ---------------------------------------------------------------- summaries


@dataclass
class StoreStatus:
    """Progress of an experiment store."""

    path: str
    name: str
    arms: list[str]
    counts: dict[str, int]
    per_arm: dict[str, dict[str, int]]
    failures: list[tuple[str, int, int, str]]
    seconds_mean: float
    seconds_total: float
    write_seconds_mean: float
    #: done runs whose data no longer match their checksum: (arm, sample, replicate, why)
    damaged: list[tuple[str, int, int, str]] = field(default_factory=list)
    #: finished runs waiting in the staging directory to be packed into their shard (counted as pending)
    staged: int = 0

    @property
    def n_runs(self) -> int:
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        return self.counts["done"] == self.n_runs and not self.damaged

    def format(self, max_failures: int = 10) -> str:
        """What ``blinasim status`` prints, as plain text (the per-arm table in fixed-width columns)."""
        lines = []
        for block in self.blocks(max_failures):
            if isinstance(block, str):
                lines.append(block)
                continue
            _headers, rows = block
            width = max(len(r[0]) for r in rows)
            lines += [f"  {a:<{width}}  {d:>6} done  {f:>5} failed  {p:>6} pending" for a, d, f, p in rows]
        return "\n".join(lines)

    def blocks(self, max_failures: int = 10) -> list[str | tuple[list[str], list[list[str]]]]:
        """The status as lines of text and one table (``(headers, rows)``: runs per arm), in order; the
        command line draws the table with :mod:`blinasim.terminal`, :meth:`format` as fixed-width text."""
        c = self.counts
        lines: list[str | tuple[list[str], list[list[str]]]] = [
            f"{self.path}: experiment {self.name!r}, {self.n_runs} runs: "
            f"{c['done']} done, {c['failed']} failed, {c['pending']} pending"
            + (f"; {len(self.damaged)} of the done runs damaged" if self.damaged else ""),
        ]
        if self.staged:
            lines.append(
                f"  {self.staged} of the pending runs finished and wait to be packed into their shard "
                "(when the shard's last run finishes, or by `--resume` after an interrupted sweep)"
            )
        rows = [[arm, *(str(self.per_arm[arm][k]) for k in ("done", "failed", "pending"))] for arm in self.arms]
        lines.append((["arm", "done", "failed", "pending"], rows))
        if np.isfinite(self.seconds_mean):
            lines.append(
                f"  run time: mean {self.seconds_mean:.3g} s, total {self.seconds_total:.4g} s; "
                f"store write: mean {self.write_seconds_mean:.3g} s per run"
            )
        for arm, s, r, msg in self.failures[:max_failures]:
            first = msg.strip().splitlines()[0] if msg.strip() else "(no message)"
            lines.append(f"  failed: arm {arm!r}, sample {s}, replicate {r}: {first}")
        if len(self.failures) > max_failures:
            lines.append(f"  ... and {len(self.failures) - max_failures} more failed runs")
        if self.damaged:
            lines.append(
                f"  {len(self.damaged)} done run(s) damaged on disk (data changed since written); "
                "`blinasim sweep EXPERIMENT --out STORE --resume` re-runs them:"
            )
            for arm, s, r, why in self.damaged[:max_failures]:
                lines.append(f"  damaged: arm {arm!r}, sample {s}, replicate {r}: {why}")
            if len(self.damaged) > max_failures:
                lines.append(f"  ... and {len(self.damaged) - max_failures} more damaged runs")
        return lines


def store_status(path: str | os.PathLike, *, verify: bool = True) -> StoreStatus:
    """Counts of pending, done and failed runs, per arm, the failure messages and (``verify``) damaged runs."""
    ds = open_store(path)
    status = read_status(path)
    arms = [str(a) for a in ds.arm.values]
    counts = {name: int(np.count_nonzero(status == code)) for code, name in STATUS_NAMES.items()}
    per_arm = {
        arm: {name: int(np.count_nonzero(status[i] == code)) for code, name in STATUS_NAMES.items()}
        for i, arm in enumerate(arms)
    }
    failures = []
    failed_idx = np.argwhere(status == FAILED)
    if failed_idx.size:
        messages = ds["run_message"].values
        for a, s, r in failed_idx:
            failures.append((arms[a], int(s), int(r), str(messages[a, s, r])))
    done = status == DONE
    if done.any():
        secs = ds["run_seconds"].values[done]
        wsecs = ds["run_write_seconds"].values[done]
        seconds_mean, seconds_total = float(np.nanmean(secs)), float(np.nansum(secs))
        write_mean = float(np.nanmean(wsecs)) if np.isfinite(wsecs).any() else float("nan")
    else:
        seconds_mean = seconds_total = write_mean = float("nan")
    damaged = [(arms[a], s, r, why) for a, s, r, why in damaged_runs(path, status)] if verify else []
    return StoreStatus(
        str(path),
        str(ds.attrs.get("experiment_name", "")),
        arms,
        counts,
        per_arm,
        failures,
        seconds_mean,
        seconds_total,
        write_mean,
        damaged,
        len(staged_runs(path)),
    )


def export_netcdf(store: str | os.PathLike, out: str | os.PathLike, *, allow_incomplete: bool = False) -> Path:
    """Write a finished store as one netCDF-4 file (atomically; refuses to overwrite)."""

    ds = open_store(store)
    status = read_status(store)
    if not allow_incomplete and not np.all(status == DONE):
        n_pending = int(np.count_nonzero(status == PENDING))
        n_failed = int(np.count_nonzero(status == FAILED))
        raise StoreError(
            f"store {str(store)!r} is not finished ({n_pending} pending, {n_failed} failed runs); "
            f"finish the sweep ({arg('resume', True)}) or export anyway with {arg('allow_incomplete', True)}"
        )
    damaged = damaged_runs(store, status)
    if damaged:
        arms = [str(a) for a in ds.arm.values]
        raise StoreError(
            [
                f"store {str(store)!r} has {len(damaged)} damaged run(s); re-run them by resuming the sweep "
                f"({arg('resume', True)})",
                *format_damaged(arms, damaged),
            ]
        )
    if Path(out).suffix != ".nc":
        raise StoreError(f"netCDF output {str(out)!r} must end in .nc")
    ds = ds.load()
    for var in ds.variables.values():
        var.encoding = {}
    return write_dataset(ds, out)


def run_config(ds: xr.Dataset, arm: int | str, sample: int):
    """The validated :class:`blinasim.params.schema.Config` of the runs of (arm, sample) of a store."""

    arms = [str(a) for a in ds.arm.values]
    a = arms.index(arm) if isinstance(arm, str) else int(arm)
    data = json.loads(ds.attrs["base_config"])
    for path, value in json.loads(str(ds.arm_overrides.values[a])).items():
        set_dotted(data, path, value)
    plan = json.loads(ds.attrs["plan"])
    if plan["parameters"]:
        for path, value in zip(plan["parameters"], plan["samples"][int(sample)], strict=True):
            set_dotted(data, path, value)
    return validate_config(data)
