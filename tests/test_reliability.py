"""Nothing lost, nothing deleted, no traceback (issue 18): each case as it was reported, then its fix.

The Dask cases (a worker killed mid-sweep, no workers) are in tests/test_reliability_dask.py.
docs/reliability.md lists what is guaranteed and which test shows it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from blinasim.core.io import WRITER_FILE, clean_stale_partials, make_partial_dir
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.report import REPORT_MARKER, ReportError, _table, make_report
from blinasim.experiments.spec import ExperimentError
from blinasim.experiments.store import (
    CHECKSUM_VAR,
    DONE,
    PENDING,
    StoreError,
    damaged_runs,
    lock_path,
    lock_store,
    open_store,
    read_status,
    store_status,
)
from blinasim.experiments.sweep import InProcessExecutor, SweepError
from blinasim.params.schema import ConfigError, load_config, parse_overrides
from tests.conftest import CLI_ERROR
from tests.sweep_helpers import assert_same_results, write_experiment

ROOT = Path(__file__).resolve().parents[1]


def blinasim(*args, cwd=ROOT, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def cli(*args):
    """The command line in this process (fast, and monkeypatches reach it)."""
    from typer.testing import CliRunner

    from blinasim.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_one_message(proc, *fragments):
    """Exit 2, one error heading, no traceback, every fragment in the message."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert CLI_ERROR.match(lines[0]) and sum(bool(CLI_ERROR.match(line)) for line in lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


def sweep(exp_path: Path, store: Path, **kwargs):
    return Experiment.from_toml(exp_path).run(store, executor=InProcessExecutor(), progress=False, **kwargs)


@pytest.fixture(scope="module")
def done_store(tmp_path_factory):
    """A finished store: 2 arms x 2 samples x 2 replicates (8 runs), and its experiment."""
    d = tmp_path_factory.mktemp("done")
    exp = write_experiment(d)
    sweep(exp, d / "s.zarr")
    return exp, d / "s.zarr"


@pytest.fixture
def store_copy(done_store, tmp_path):
    exp, store = done_store
    shutil.copy(exp, tmp_path / "exp.toml")
    shutil.copytree(store, tmp_path / "s.zarr")
    return tmp_path / "exp.toml", tmp_path / "s.zarr"


def _inner_chunk(store: Path, var: str, a: int, s: int, r: int) -> tuple[Path, int, int, int, int]:
    """Where a run's chunk of a variable is inside its shard file (Zarr v3 sharding, index at the end):
    ``(shard file, offset, nbytes, index entry, entries)``."""
    meta = json.loads((store / var / "zarr.json").read_text())
    (sharding,) = [c for c in meta["codecs"] if c["name"] == "sharding_indexed"]
    shard = meta["chunk_grid"]["configuration"]["chunk_shape"]
    inner = sharding["configuration"]["chunk_shape"]
    idx = (a, s, r) + (0,) * (len(shard) - 3)
    path = store / var / "c" / Path(*(str(i // n) for i, n in zip(idx, shard, strict=True)))
    per = [n // i for n, i in zip(shard, inner, strict=True)]
    entry = int(np.ravel_multi_index([(i % n) // k for i, n, k in zip(idx, shard, inner, strict=True)], per))
    entries = int(np.prod(per))
    raw = path.read_bytes()
    index = np.frombuffer(raw[-(16 * entries + 4) : -4], dtype="<u8").reshape(entries, 2)
    assert index[entry, 1] > 0 and index[entry, 0] != 2**64 - 1, "the run's chunk is not in its shard"
    return path, int(index[entry, 0]), int(index[entry, 1]), entry, entries


def _delete_chunk(store: Path, var: str, a: int, s: int, r: int) -> None:
    """Remove one run's chunk from its shard (the shard index marks it absent, with a valid checksum)."""
    import google_crc32c

    path, _, _, entry, entries = _inner_chunk(store, var, a, s, r)
    raw = path.read_bytes()
    index = np.frombuffer(raw[-(16 * entries + 4) : -4], dtype="<u8").reshape(entries, 2).copy()
    index[entry] = 2**64 - 1
    body = index.astype("<u8").tobytes()
    crc = np.asarray([google_crc32c.value(body)], dtype="<u4").tobytes()
    path.write_bytes(raw[: -(16 * entries + 4)] + body + crc)


def _garble_chunk(store: Path, var: str, a: int, s: int, r: int, data: bytes | None = None) -> None:
    """Overwrite one run's chunk inside its shard with random bytes (or ``data``, padded with them)."""
    path, offset, nbytes, _, _ = _inner_chunk(store, var, a, s, r)
    noise = np.random.default_rng(0).bytes(nbytes)
    new = (data or b"")[:nbytes] + noise[len(data or b"") :]
    raw = bytearray(path.read_bytes())
    raw[offset : offset + nbytes] = new
    path.write_bytes(bytes(raw))


# ---------------------------------------------------------------- 1. report --out never deletes


def test_report_out_never_deletes_a_users_directory(done_store, tmp_path):
    """The reproduction of the issue: a directory with a summary.md, a file and a subdirectory."""
    _, store = done_store
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "summary.md").write_text("x\n")
    (notes / "important.txt").write_text("keep\n")
    proc = blinasim("report", store, "--out", notes, "--formats", "svg")
    assert_one_message(proc, str(notes), "not a blinasim report directory", "nothing was changed")
    assert (notes / "important.txt").read_text() == "keep\n" and (notes / "sub").is_dir()
    assert (notes / "summary.md").read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]  # no temporary left behind


def test_a_report_directory_is_replaced_only_while_it_holds_only_its_own_files(done_store, tmp_path):
    _, store = done_store
    out = tmp_path / "rep"
    make_report(store, out, formats=("svg",), variables=["mrd"])
    marker = json.loads((out / REPORT_MARKER).read_text())
    assert marker["format"] == "blinasim-report/1" and "summary.md" in marker["files"]
    make_report(store, out, formats=("svg",), variables=["blasts"])  # its own report: replaced as a whole
    assert sorted(p.name for p in out.glob("timecourse_*")) == ["timecourse_blasts.svg"]
    (out / "my_notes.txt").write_text("mine")
    with pytest.raises(ReportError, match="also holds files the report did not write.*my_notes.txt"):
        make_report(store, out, formats=("svg",))
    assert (out / "my_notes.txt").read_text() == "mine"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ReportError, match="not a directory"):
        make_report(store, a_file, formats=())
    assert a_file.read_text() == "x"


def test_a_pipe_in_an_arm_name_is_escaped_in_the_summary_table():
    import pandas as pd

    rows = _table(pd.DataFrame({"arm": ["a|b", "line\nbreak"], "n": [1, 2]}), ["arm", "n"])
    assert rows[2] == "| a\\|b | 1 |" and rows[3] == "| line break | 2 |"
    assert all(row.count("|") - row.count("\\|") == 3 for row in rows[2:])


def test_an_arm_name_with_a_pipe_keeps_the_summary_table_whole(tmp_path):
    arms = '[[arm]]\nname = "step|up"\ntreatment.regimen = "rr_step_up"\n\n[[arm]]\nname = "flat"\ntreatment.regimen = "flat"\n'
    exp = write_experiment(tmp_path, replicates=1, arms=arms)
    sweep(exp, tmp_path / "s.zarr")
    text = make_report(tmp_path / "s.zarr", tmp_path / "rep", formats=()).to_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "step" in line]
    assert rows and all("step\\|up" in row for row in rows)
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            tables.append(block)
            block = []
    for table in tables:  # every row of a table has as many cells as its header
        assert len({row.replace("\\|", "").count("|") for row in table}) == 1, table


# ---------------------------------------------------------------- 3. store integrity


def test_every_done_run_has_a_checksum_that_verifies(done_store):
    _, store = done_store
    ds = open_store(store)
    assert all(len(c) == 32 for c in ds[CHECKSUM_VAR].values.ravel().tolist())
    assert damaged_runs(store) == []
    assert store_status(store).damaged == []


def test_a_deleted_chunk_of_a_done_run_is_reported_by_status_refused_by_report_and_rerun_by_resume(
    done_store, store_copy, tmp_path
):
    exp, store = store_copy
    _delete_chunk(store, "blasts", 1, 0, 1)
    st = store_status(store)
    assert [d[:3] for d in st.damaged] == [("flat", 0, 1)] and not st.complete
    proc = blinasim("status", store)
    assert "damaged: arm 'flat', sample 0, replicate 1" in proc.stdout, proc.stdout
    proc = blinasim("report", store, "--out", tmp_path / "rep", "--formats", "svg")
    assert_one_message(proc, "1 damaged run", "arm 'flat', sample 0, replicate 1", "--resume")
    assert not (tmp_path / "rep").exists()
    proc = blinasim("sweep", exp, "--out", store, "--resume", "--workers", "1", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "1 done run(s)" in proc.stderr and "1 done, 0 failed, 7 already done" in proc.stdout
    assert damaged_runs(store) == []
    assert_same_results(done_store[1], store)


def test_random_bytes_in_a_chunk_are_a_damaged_run_not_a_traceback(done_store, store_copy, tmp_path):
    exp, store = store_copy
    _garble_chunk(store, "mrd", 0, 1, 0)
    assert [d[:3] for d in damaged_runs(store)] == [(0, 1, 0)]
    proc = blinasim("report", store, "--out", tmp_path / "rep", "--formats", "svg")
    assert_one_message(proc, "arm 'step_up', sample 1, replicate 0", "'mrd' cannot be read")
    sweep(exp, store, resume=True)
    assert damaged_runs(store) == []
    assert_same_results(done_store[1], store)


def test_a_damaged_status_chunk_counts_as_pending_and_is_rerun(done_store, store_copy):
    exp, store = store_copy
    _garble_chunk(store, "run_status", 0, 0, 1, b"\x00garbage")
    status = read_status(store)
    assert status[0, 0, 1] == PENDING and np.count_nonzero(status == DONE) == 7
    result = sweep(exp, store, resume=True)
    assert (result.done, result.skipped) == (1, 7)
    assert_same_results(done_store[1], store)


def test_truncated_root_metadata_gives_one_message_in_status_report_and_resume(store_copy, tmp_path):
    exp, store = store_copy
    meta = store / "zarr.json"
    meta.write_text(meta.read_text()[:300])
    for args in (
        ("status", store),
        ("report", store, "--out", tmp_path / "rep"),
        ("sweep", exp, "--out", store, "--resume", "--no-progress"),
        ("export", store, "--out", tmp_path / "x.nc"),
    ):
        assert_one_message(blinasim(*args), "metadata cannot be read", "damaged")


# ---------------------------------------------------------------- 4. grid size


def test_a_huge_grid_is_refused_before_anything_is_drawn(tmp_path, monkeypatch):
    import blinasim.experiments.spec as spec

    def no_draw(*args, **kwargs):  # the grid must never be materialised
        raise AssertionError("the sampler drew samples")

    monkeypatch.setattr(spec, "draw", no_draw)
    sampler = textwrap.dedent(
        """
        [sampler]
        method = "grid"
        [sampler.parameters]
        "patient.t_cells_per_ul" = { low = 100.0, high = 900.0, num = 1000 }
        "patient.b_cells_per_ul" = { low = 10.0, high = 100.0, num = 1000 }
        "patient.weight_kg" = { low = 50.0, high = 80.0, num = 1000 }
        """
    )
    exp = write_experiment(tmp_path, sampler=sampler)
    with pytest.raises(ExperimentError, match=r"1,000,000,000 samples \(1000 x 1000 x 1000 grid points\)"):
        Experiment.from_toml(exp)
    assert_one_message(cli("sweep", exp, "--dry-run"), "1,000,000,000 samples", "at most 10,000,000")


# ---------------------------------------------------------------- 5. version on resume


def test_resume_refuses_a_store_of_another_blinasim_version(store_copy, monkeypatch):
    import blinasim.experiments.sweep as sweep_module

    exp, store = store_copy
    made_with = open_store(store).attrs["blinasim_version"]
    before = read_status(store).copy()
    monkeypatch.setattr(sweep_module, "__version__", "99.0.0")
    proc = cli("sweep", exp, "--out", store, "--resume", "--no-progress")
    assert_one_message(proc, f"written by blinasim {made_with}", "this is blinasim 99.0.0", "new store")
    assert np.array_equal(read_status(store), before)
    assert not lock_path(store).exists()


# ---------------------------------------------------------------- 6. writability first


def _drop_root_override() -> None:
    """In the child: drop root's power to ignore permission bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)
    from the capability bounding set, so that the command run next obeys them as any user does."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(99)


def _as_nobody() -> dict:
    """Run a subprocess without root's power to write anywhere (when the tests run as root)."""
    if os.geteuid() != 0:
        return {}
    return {"preexec_fn": _drop_root_override}


@pytest.fixture
def readonly_dir():
    """A directory nobody may write to, in a tree every user may read (root: the CLI runs as nobody)."""
    top = Path(tempfile.mkdtemp(prefix="blinasim-ro-"))
    os.chmod(top, 0o755)
    ro = top / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        yield ro
    finally:
        os.chmod(ro, 0o755)
        shutil.rmtree(top, ignore_errors=True)


def _cli_env(tmp: Path) -> dict:
    cache = tmp / "numba"
    cache.mkdir(exist_ok=True)
    os.chmod(cache, 0o777)
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache), "HOME": str(tmp)}


def test_run_to_an_unwritable_directory_is_refused_before_the_simulation(readonly_dir):
    out = readonly_dir / "run.zarr"
    proc = blinasim(
        "run", "--out", out, "--set", "simulation.days=0.5", "--set", "simulation.lattice_size=16",
        env=_cli_env(readonly_dir.parent), **_as_nobody(),
    )  # fmt: skip
    assert_one_message(proc, "bad output path", str(readonly_dir), "cannot write")
    assert "simulating" not in proc.stderr  # refused before the simulation started
    assert not out.exists()


def test_sweep_to_an_unwritable_store_path_is_refused_before_the_dry_run(readonly_dir):
    exp = write_experiment(readonly_dir.parent)
    os.chmod(exp, 0o644)
    out = readonly_dir / "s.zarr"
    proc = blinasim(
        "sweep", exp, "--out", out, "--workers", "1", "--no-progress",
        env=_cli_env(readonly_dir.parent), **_as_nobody(),
    )  # fmt: skip
    assert_one_message(proc, str(readonly_dir), "cannot write")
    assert not out.exists() and not list(readonly_dir.iterdir())


def test_the_writability_check_runs_before_the_simulation(tmp_path, monkeypatch):
    """The same order in this process, whoever runs the tests: the probe fails, nothing is simulated."""
    import blinasim
    import blinasim.core.io as io

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    def no_simulation(*args, **kwargs):
        raise AssertionError("simulated although the output cannot be written")

    monkeypatch.setattr(io.tempfile, "mkstemp", denied)
    monkeypatch.setattr(blinasim, "simulate", no_simulation)
    proc = cli("run", "--out", tmp_path / "r.zarr", "--set", "simulation.days=0.5", "--no-progress")
    assert_one_message(proc, "cannot write in directory", "no permission")


# ---------------------------------------------------------------- 7. no tracebacks


def test_binary_config_and_experiment_files_give_one_message(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    assert_one_message(cli("validate", binary), "is not a text file", "not UTF-8")
    assert_one_message(cli("run", binary, "--out", tmp_path / "r.zarr"), "is not a text file")
    assert_one_message(cli("sweep", binary, "--dry-run"), "experiment file", "is not a text file")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(binary)


def test_a_full_disk_while_writing_a_run_gives_one_message_and_no_output(tmp_path, monkeypatch):
    import xarray as xr

    def full(self, *args, **kwargs):
        Path(args[0] if args else kwargs["store"]).mkdir()  # something half-written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_zarr", full)
    out = tmp_path / "r.zarr"
    proc = cli("run", "--out", out, "--set", "simulation.days=0.5", "--set", "simulation.lattice_size=16",
               "--no-progress")  # fmt: skip
    assert_one_message(proc, "cannot write the output", str(out), "No space left on device", "free disk space")
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary


def test_a_file_size_limit_while_writing_gives_one_message_and_no_output(tmp_path):
    """A real limit (ulimit -f) on a real write, in a subprocess."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "out" / "run.nc"
    out.parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "blinasim.cli", "run", "--out", str(out), "--set", "simulation.days=2.0",
         "--set", "simulation.lattice_size=16", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, preexec_fn=limit,
    )  # fmt: skip
    assert_one_message(proc, "cannot write the output", str(out), "nothing was written")
    assert list(out.parent.iterdir()) == []


def test_a_full_disk_while_creating_a_store_gives_one_message(tmp_path, monkeypatch):
    import xarray as xr

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    exp = write_experiment(tmp_path, replicates=1)
    monkeypatch.setattr(xr.Dataset, "to_zarr", full)
    with pytest.raises(SweepError, match="cannot create store .* No space left on device .*nothing was written"):
        sweep(exp, tmp_path / "s.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


def test_two_sweeps_creating_one_store_at_once_one_wins_the_other_gets_a_message(tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    cmd = [sys.executable, "-m", "blinasim.cli", "sweep", str(exp), "--out", str(store), "--workers", "1",
           "--no-progress"]  # fmt: skip
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    _, _, err = next(r for r in results if r[0] == 2)
    assert "Traceback" not in err and CLI_ERROR.match(err)
    assert "another blinasim process" in err or "already exists" in err or "created by another process" in err
    assert (read_status(store) == DONE).all()
    assert not lock_path(store).exists()


def test_a_store_made_by_another_process_meanwhile_is_a_message_not_enotempty(tmp_path, monkeypatch):
    import blinasim.experiments.store as store_module

    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    real_replace = os.replace

    def late(src, dst):  # the other process renames its store into place just before this one
        if Path(dst) == store and not store.exists():
            (store / "zarr.json").parent.mkdir()
            (store / "zarr.json").write_text("{}")
        return real_replace(src, dst)

    monkeypatch.setattr(store_module.os, "replace", late)
    with pytest.raises(SweepError, match="created by another process"):
        sweep(exp, store)


# ---------------------------------------------------------------- 8. the smaller ones


def test_nan_days_must_be_a_finite_number():
    with pytest.raises(ConfigError, match="simulation.days = nan: Input should be a finite number"):
        load_config(None, {"simulation.days": float("nan")})
    assert_one_message(cli("validate", ROOT / "experiments/default.toml", "--set", "simulation.days=nan"),
                       "finite number")  # fmt: skip


def test_a_directory_as_the_config_file_is_reported_as_a_directory(tmp_path):
    assert_one_message(cli("validate", tmp_path), "is a directory, not a TOML file")
    assert_one_message(cli("sweep", tmp_path, "--dry-run"), "is a directory")


def test_a_utf8_byte_order_mark_is_accepted_in_toml_and_csv(tmp_path):
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbfsimulation.days = 2.0\n")
    assert load_config(cfg).simulation.days == 2.0
    csv = tmp_path / "samples.csv"
    csv.write_bytes(b"\xef\xbb\xbfpatient.t_cells_per_ul,label\r\n300,low\r\n900,high\r\n")  # as Excel saves it
    exp = write_experiment(tmp_path, sampler='[sampler]\nmethod = "csv"\nfile = "samples.csv"\n')
    exp.write_bytes(b"\xef\xbb\xbf" + exp.read_bytes())
    plan = Experiment.from_toml(exp).plan
    assert plan.parameters == ["patient.t_cells_per_ul"] and plan.samples.labels == ["low", "high"]


def test_the_same_set_key_twice_is_an_error_naming_the_key():
    with pytest.raises(ConfigError, match="override 'simulation.days' is given twice"):
        parse_overrides(["simulation.days=2", "patient.weight_kg=70", "simulation.days=3"])
    assert_one_message(cli("validate", ROOT / "experiments/default.toml", "--set", "simulation.days=2",
                           "--set", "simulation.days=3"), "'simulation.days' is given twice")  # fmt: skip


@pytest.mark.parametrize(
    ("days", "fragments"),
    [
        ("1.013", ["not a whole multiple of the record interval", "use days = 1 or 1.04167"]),
        ("1e-9", ["single recorded time point", "days >= 0.0416667"]),
    ],
)
def test_days_off_the_record_grid_are_refused(tmp_path, days, fragments):
    assert_one_message(cli("validate", ROOT / "experiments/default.toml", "--set", f"simulation.days={days}"),
                       *fragments)  # fmt: skip
    assert_one_message(cli("run", "--out", tmp_path / "r.zarr", "--set", f"simulation.days={days}"), *fragments)
    exp = write_experiment(tmp_path, base=f"[base]\nsimulation.days = {days}\nsimulation.lattice_size = 16\n")
    with pytest.raises(ExperimentError, match=fragments[0]):
        Experiment.from_toml(exp)
    assert not (tmp_path / "r.zarr").exists()


def test_output_store_is_relative_to_the_experiment_file(tmp_path, monkeypatch):
    sub = tmp_path / "exps"
    sub.mkdir()
    exp = write_experiment(sub, replicates=1, arms="", extra='[output]\nstore = "results/s.zarr"\n')
    (sub / "results").mkdir()
    monkeypatch.chdir(tmp_path)
    experiment = Experiment.from_toml(Path("exps/exp.toml"))
    assert Path(experiment.spec.output.store) == (sub / "results/s.zarr").resolve()
    result = experiment.run(executor=InProcessExecutor(), progress=False)
    assert result.done == 2 and (sub / "results/s.zarr/zarr.json").is_file() and not (tmp_path / "results").exists()
    assert exp.exists()


def test_a_second_writer_of_a_store_is_refused_and_a_stale_lock_is_taken_over(store_copy, tmp_path):
    exp, store = store_copy
    _garble_chunk(store, "run_status", 1, 1, 1, b"\x00")  # one run to do again
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            f"""
            import sys, time
            from blinasim.experiments.store import lock_store
            with lock_store({str(store)!r}):
                print("locked", flush=True)
                time.sleep(120)
            """)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = blinasim("sweep", exp, "--out", store, "--resume", "--workers", "1", "--no-progress")
        assert_one_message(proc, "being written by another blinasim process", f":{holder.pid}", "lock file")
        assert read_status(store)[1, 1, 1] == PENDING  # the refused resume ran nothing
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    # The holder was killed: its lock is stale and the next resume takes it over.
    assert lock_path(store).exists()
    result = sweep(exp, store, resume=True)
    assert (result.done, result.skipped) == (1, 7)
    assert not lock_path(store).exists()


def test_the_lock_of_a_live_process_is_never_taken(tmp_path):
    store = tmp_path / "s.zarr"
    with lock_store(store):
        assert lock_path(store).read_text().endswith(f":{os.getpid()}")
        with pytest.raises(StoreError, match=f"being written by another blinasim process .*:{os.getpid()}"):
            with lock_store(store):
                pass
        assert lock_path(store).exists()
    assert not lock_path(store).exists()


def test_partial_folders_of_killed_writers_are_cleaned_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    host = socket.gethostname()
    stale = tmp_path / ".run.zarr.abc.partial"
    live = tmp_path / ".other.zarr.def.partial"
    foreign = tmp_path / ".x.zarr.ghi.partial"
    unknown = tmp_path / ".y.zarr.jkl.partial"
    for d, writer in (
        (stale, f"{host}:{dead.pid}"),
        (live, f"{host}:{os.getpid()}"),
        (foreign, f"elsewhere:{dead.pid}"),
    ):
        d.mkdir()
        (d / WRITER_FILE).write_text(writer)
        (d / "store").mkdir()
    unknown.mkdir()
    assert clean_stale_partials(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and foreign.exists() and unknown.exists()
    # Every write cleans them first: a killed `blinasim run` leaves one, the next write removes it.
    for d, writer in ((stale, f"{host}:{dead.pid}"),):
        d.mkdir()
        (d / WRITER_FILE).write_text(writer)
    tmp = make_partial_dir(tmp_path / "new.zarr")
    assert not stale.exists() and tmp.exists() and (tmp / WRITER_FILE).read_text() == f"{host}:{os.getpid()}"


def test_a_killed_run_leaves_a_partial_folder_that_the_next_run_removes(tmp_path):
    out = tmp_path / "r.zarr"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            f"""
            import os, time
            import xarray as xr
            from blinasim.core import io
            def slow(self, *args, **kwargs):
                print("writing", flush=True)
                time.sleep(120)
            xr.Dataset.to_zarr = slow
            io.write_dataset(xr.Dataset({{"x": ("t", [1.0, 2.0])}}), {str(out)!r})
            """)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "writing"
        partials = list(tmp_path.glob(".r.zarr.*.partial"))
        assert len(partials) == 1
        make_partial_dir(tmp_path / "other.zarr")  # its writer is alive: kept
        assert partials[0].exists()
    finally:
        proc.kill()
        proc.wait()
    make_partial_dir(tmp_path / "other.zarr")  # the next write in the directory removes it
    assert not partials[0].exists() and not out.exists()


def test_a_store_path_that_does_not_exist_is_named_as_missing(tmp_path):
    """`status`, `report` and `export` on a path with nothing there: one message saying it does not exist (not
    that it is no blinasim store), and nothing is created."""
    missing = tmp_path / "no_such.zarr"
    for args in (("status", missing), ("report", missing), ("export", missing, "--out", tmp_path / "x.nc")):
        assert_one_message(cli(*args), f"store {str(missing)!r} does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
