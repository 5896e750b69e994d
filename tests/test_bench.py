"""Benchmarks: `blinasim bench` (core against reference, in one run) and the harness in benchmarks/.

Their records, options and errors; never their wall-clock numbers.
"""

from __future__ import annotations

import importlib.util
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from blinasim.reference import benchmark as bm

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def harness():
    """benchmarks/harness.py (outside the package), loaded from its file."""
    spec = importlib.util.spec_from_file_location("harness", ROOT / "benchmarks" / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REQUIRED = {
    "size": str,
    "agents": int,
    "ticks": int,
    "agent_updates_per_second": float,
    "agent_updates_per_second_spread": dict,
    "agent_updates_per_cpu_second": float,
    "cpu_share": float,
    "bytes_per_agent": float,
    "peak_rss_bytes": int,
    "init_seconds": float,
    "machine": dict,
}


def cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def script(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_core.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def is_number_or_none(x):
    return x is None or (isinstance(x, int | float) and math.isfinite(x))


# ------------------------------------------------------------ blinasim bench


def test_cli_compares_the_core_with_the_reference_in_one_run(tmp_path):
    out = tmp_path / "bench.json"
    proc = cli("bench", "--sizes", "tiny", "--days", "0.05", "--repeats", "1", "--json", out)
    assert proc.returncode == 0, proc.stderr
    (rec,) = json.loads(out.read_text())
    assert rec["size"] == "tiny" and rec["lattice_size"] == bm.SIZES["tiny"].lattice_size
    assert rec["ticks"] == 12  # 0.05 day of 0.1 h ticks
    assert rec["agents"] > 0 and rec["agent_updates_per_second"] > 0
    assert 0 < rec["bytes_per_agent"] < 1024
    assert rec["reference"]["status"] == "ok"
    assert rec["reference"]["ticks"] == rec["reference"]["core_ticks"] == 12
    assert rec["ratio_vs_reference"] > 0
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["size", "agents", "ticks"]
    assert lines[2].split()[0] == "tiny" and lines[2].split()[-1].endswith("x")
    assert f"wrote {out}" in proc.stdout


def test_compare_without_reference_gives_a_null_ratio_and_the_reason():
    (rec,) = bm.compare(["tiny"], days=0.05, repeats=2, reference=False)
    assert rec["ratio_vs_reference"] is None
    assert rec["reference"]["status"] == "skipped (--no-reference)"
    assert len(rec["agent_updates_per_second_all"]) == 2
    spread = rec["agent_updates_per_second_spread"]
    assert spread["min"] <= rec["agent_updates_per_second"] <= spread["max"]
    table = bm.format_table([rec])
    assert "null" in table and "reference skipped (--no-reference)" in table


def test_the_reference_is_not_run_at_a_size_without_reference_days():
    days, status = bm.reference_status(bm.SIZES["xlarge"], reference=True)
    assert days is None and "not run at size 'xlarge'" in status


# ---------------------------------------------------------- benchmarks/harness


@pytest.fixture(scope="module")
def tiny_records(tmp_path_factory):
    """benchmarks/bench_core.py on the hidden tiny size, without JIT measurement or reference: a few seconds."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = script("--sizes", "tiny", "--days", "0.1", "--repeats", "2", "--no-jit", "--no-reference", "--json", out)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(out.read_text())


def test_json_has_one_record_per_size_with_the_required_keys_and_types(tiny_records):
    _, records = tiny_records
    assert isinstance(records, list) and len(records) == 1
    rec = records[0]
    for key, typ in REQUIRED.items():
        assert isinstance(rec[key], typ), (key, rec[key])
    assert rec["size"] == "tiny"
    assert rec["ticks"] == 24  # 0.1 day of 0.1 h ticks
    assert rec["lattice_size"] == bm.SIZES["tiny"].lattice_size
    assert rec["agents"] > 0 and rec["agent_updates_per_second"] > 0
    spread = rec["agent_updates_per_second_spread"]
    assert set(spread) >= {"min", "max", "iqr"}
    assert spread["min"] <= rec["agent_updates_per_second"] <= spread["max"]
    assert len(rec["agent_updates_per_second_all"]) == 2
    assert 0 < rec["bytes_per_agent"] < 1024
    assert rec["peak_rss_bytes"] > 0
    for key in ("ratio_vs_reference", "jit_compile_seconds", "jit_cached_seconds"):
        assert key in rec and is_number_or_none(rec[key]), key
    machine = rec["machine"]
    for key in ("cpu_count", "python", "numpy", "numba"):
        assert machine[key], key
    assert rec["numba_threads"] == 1  # NUMBA_NUM_THREADS=1 in the measuring subprocess
    assert rec["jit_during_run"] is False  # the warm-up compiled everything the timed runs use


def test_jit_fields_are_null_when_jit_is_skipped(tiny_records):
    rec = tiny_records[1][0]
    assert rec["jit_compile_seconds"] is None and rec["jit_cached_seconds"] is None


def test_ratio_is_null_when_the_reference_is_skipped(tiny_records):
    proc, records = tiny_records
    rec = records[0]
    assert rec["ratio_vs_reference"] is None
    assert "skipped" in rec["reference"]["status"]
    assert "null" in proc.stdout  # and the table says so
    assert "reference skipped" in proc.stdout


def test_table_prints_one_row_per_size(tiny_records):
    proc, _ = tiny_records
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["size", "agents", "ticks"]
    assert any(line.split()[0] == "tiny" for line in lines[2:] if line.strip())


def test_reference_at_a_size_without_reference_days_is_skipped_with_a_reason(harness):
    rec = harness.measure_size(bm.BenchSize("no-ref", 16, 0.05, None, "test"), repeats=1, reference=True)
    assert rec["ratio_vs_reference"] is None
    assert "not run at size" in rec["reference"]["status"]


def test_reference_ratio_in_the_measuring_process(harness):
    rec = harness.measure_size("tiny", days=0.05, repeats=1, reference=True)
    assert rec["reference"]["status"] == "ok"
    assert rec["ratio_vs_reference"] > 0
    assert rec["reference"]["ticks"] == rec["reference"]["core_ticks"] == 12


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--sizes", "huge"], ["--sizes 'huge'", "unknown size", "small, medium, large, xlarge"]),
        (["--sizes", "small,gigantic"], ["--sizes 'gigantic'", "allowed"]),
        (["--days", "0"], ["--days 0", "positive"]),
        (["--days", "-2"], ["--days -2", "positive"]),
        (["--repeats", "0"], ["--repeats 0", ">= 1"]),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(args, fragments):
    proc = cli("bench", *args)
    assert proc.returncode == 2, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_script_rejects_an_unknown_size_with_exit_2():
    proc = script("--sizes", "huge")
    assert proc.returncode == 2
    assert "--sizes 'huge'" in proc.stderr and "unknown size" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_parse_sizes_keeps_order_and_drops_duplicates():
    assert bm.parse_sizes("medium, small,medium") == ["medium", "small"]
    with pytest.raises(bm.BenchError) as err:
        bm.parse_sizes("small,nope,zilch")
    assert len(err.value.problems) == 2


def test_named_sizes_hit_their_agent_counts():
    """The lattice sides give ~1e4 .. 1e7 agents (0.84 agents per site at the defaults)."""
    for name, target in (("small", 1e4), ("medium", 1e5), ("large", 1e6), ("xlarge", 1e7)):
        side = bm.SIZES[name].lattice_size
        assert 0.9 * target < 0.84 * side * side < 1.1 * target, name


def test_measure_jit_reports_cold_and_cached_seconds(harness, tmp_path):
    out = harness.measure_jit(str(tmp_path / "numba-cache"))
    for key in ("jit_compile_seconds", "jit_cached_seconds", "import_seconds", "warm_start_seconds"):
        assert isinstance(out[key], float) and out[key] >= 0, key
    assert out["kernels_compiled"] > 0
    assert any((tmp_path / "numba-cache").rglob("*.nbi"))  # the cold run filled the given cache


def test_scaling_writes_data_and_a_png(harness, tmp_path):
    data = harness.measure_scaling(sides=(16, 24), side_days=0.05, days=(0.05, 0.1), fixed_side=16, repeats=1)
    assert [p["lattice_size"] for p in data["by_agents"]] == [16, 24]
    assert [p["ticks"] for p in data["by_days"]] == [12, 24]
    assert all(p["cost_seconds"] > 0 and p["ns_per_agent_update"] > 0 for p in data["by_agents"] + data["by_days"])
    assert math.isfinite(data["agents_fit"]["exponent"])
    assert math.isfinite(data["days_fit"]["slope"])
    png = harness.plot_scaling(data, tmp_path / "scaling.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_format_table_shows_null_ratio_and_reason(harness):
    rec = {
        "size": "small",
        "agents": 10_000,
        "ticks": 240,
        "agent_updates_per_second": 1.5e8,
        "agent_updates_per_second_spread": {"min": 1.4e8, "max": 1.6e8, "iqr": 1e6},
        "bytes_per_agent": 40.0,
        "peak_rss_bytes": 300 * 2**20,
        "ratio_vs_reference": None,
        "reference": {"status": "failed (RuntimeError: boom)"},
        "jit_compile_seconds": 6.5,
        "jit_cached_seconds": 0.25,
        "machine": {"cpu_model": "cpu", "cpu_count": 2, "python": "3", "numpy": "2", "numba": "0"},
    }
    table = harness.format_table([rec])
    assert "null" in table and "reference failed (RuntimeError: boom)" in table
    assert "1.50e8" in table and "300" in table and "6.50" in table


def test_sweep_benchmark_records_its_paired_scaling(tmp_path):
    """benchmarks/bench_sweep.py end to end on tiny runs, local executors only: every sweep is
    recorded, and the alternating scaling pairs give one speed-up per pair and their median."""
    out = tmp_path / "sweep.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_sweep.py"),
            *("--runs", "2", "--days", "0.5", "--lattice", "24", "--no-dask", "--scaling-pairs", "2"),
            *("--json", str(out)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(out.read_text())
    executors = [r["executor"] for r in rec["records"]]
    assert executors == ["in-process", "local x1", "local x2", "local x2 parent"]
    scaling = rec["paired_scaling"]
    assert [r["executor"] for r in scaling["records"]] == [
        "local x1 pair 1",
        "local x2 pair 1",
        "local x2 pair 2",
        "local x1 pair 2",
    ]
    one, many = scaling["one_worker_seconds"], scaling["many_workers_seconds"]
    assert scaling["speedups"] == pytest.approx([a / b for a, b in zip(one, many, strict=True)])
    assert rec["summary"]["speedup_paired_median"] == pytest.approx(statistics.median(scaling["speedups"]))
    assert all(r["runs"] == 2 for r in scaling["records"])
