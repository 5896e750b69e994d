"""One error style across every command (docs/getting-started.md, "Errors"), and API errors that never
mention the command line; the terminal tables of :mod:`blinasim.terminal`."""

from __future__ import annotations

import io
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blinasim import terminal
from blinasim.errors import BlinasimError, arg, cli_spelling, spell
from tests.conftest import CLI_ERROR
from tests.sweep_helpers import write_experiment

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, env=None):
    """The command line in this process; stdout and stderr apart."""
    from typer.testing import CliRunner

    from blinasim.cli import app

    return CliRunner(env=env).invoke(app, [str(a) for a in args])


def assert_error(result, command: str, code: int, *fragments: str) -> list[str]:
    """The one style: first line ``blinasim COMMAND: error: ...``, problems as ``  - ...``, at most a
    ``hint:`` line after them; the exit status; no traceback; each fragment somewhere in the message."""
    err = result.stderr
    assert result.exit_code == code, (result.exit_code, result.stdout, err)
    assert "Traceback" not in err + result.stdout, err
    lines = err.splitlines()
    assert lines and lines[0].startswith(f"{command}: error: "), err
    assert CLI_ERROR.match(lines[0]) and sum(bool(CLI_ERROR.match(line)) for line in lines) == 1, err
    body = lines[1:]
    if body and body[-1].startswith("hint: "):
        body = body[:-1]
    assert all(line.startswith("  - ") for line in body), err
    assert lines[0].endswith(":") == bool(body), err  # a colon announces the problems
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return lines


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "bad.toml").write_text("[patient]\nmarow_blast_fraction = 0.5\n")
    (d / "exists.nc").write_text("keep me")
    (d / "a_file").write_text("")
    (d / "store.zarr").mkdir()
    write_experiment(d, replicates=1)
    return d


# Every command, each with a bad input of its own kind: (argv, command path, exit status, fragments).
CASES = {
    "run: unknown config key": (["run", "{d}/bad.toml", "--out", "{d}/o.zarr"], "blinasim run", 2,
                                ["invalid configuration", "unknown key 'patient.marow_blast_fraction'"]),
    "run: output exists": (["run", "--out", "{d}/exists.nc"], "blinasim run", 2, ["already exists", "--overwrite"]),
    "run: option missing": (["run"], "blinasim run", 2, ["invalid command line", "--out", "hint: blinasim run --help"]),
    "run: --set with a space": (["run", "--set", "patient.weight_kg", "70", "--out", "x.zarr"], "blinasim run", 2,
                                ["--set patient.weight_kg=70"]),
    "warmup: unknown option": (["warmup", "--fast"], "blinasim warmup", 2, ["No such option: --fast"]),
    "validate: missing file": (["validate", "{d}/nope.toml"], "blinasim validate", 2, ["does not exist"]),
    "bench: unknown size": (["bench", "--sizes", "huge"], "blinasim bench", 2, ["--sizes 'huge'", "allowed"]),
    "view: bad config": (["view", "{d}/bad.toml"], "blinasim view", 2, ["unknown key"]),
    "view: port out of range": (["view", "--port", "70000"], "blinasim view", 2, ["'--port'"]),
    "examples: a file": (["examples", "{d}/a_file"], "blinasim examples", 2, ["is not a directory"]),
    "sweep: a config file": (["sweep", "experiments/default.toml"], "blinasim sweep", 2,
                             ["not an experiment", "hint: blinasim run"]),
    "sweep: store exists": (["sweep", "{d}/exp.toml", "--out", "{d}/store.zarr", "--workers", "1"], "blinasim sweep",
                            2, ["already exists; pass --resume"]),
    "sweep: scheduler address": (["sweep", "{d}/exp.toml", "--out", "{d}/s2.zarr", "--scheduler", "nonsense"],
                                 "blinasim sweep", 2, ["--scheduler 'nonsense': not a Dask scheduler address"]),
    "sweep: two executors": (["sweep", "{d}/exp.toml", "--out", "{d}/s3.zarr", "--workers", "1", "--dask-local", "1"], "blinasim sweep", 2,
                             ["give at most one of --workers, --scheduler and --dask-local"]),
    "status: not a store": (["status", "{d}/a_file"], "blinasim status", 2, ["not a blinasim experiment store"]),
    "report: not a store": (["report", "{d}/store.zarr"], "blinasim report", 2, ["not a blinasim experiment store"]),
    "export: not a store": (["export", "{d}/store.zarr", "--out", "{d}/x.nc"], "blinasim export", 2,
                            ["not a blinasim experiment store"]),
    "calibrate: unknown command": (["calibrate", "nope"], "blinasim calibrate", 2, ["No such command 'nope'"]),
    "calibrate search: --start": (["calibrate", "search", "--start", "{d}/missing.json:3", "--out", "{d}/c.json"],
                                  "blinasim calibrate search", 2, ["--start '", "expected JSON:CANDIDATE"]),
    "calibrate scan: --set key": (["calibrate", "scan", "--set", "tcells.nosuch=1"], "blinasim calibrate scan", 2,
                                  ["--set: unknown key 'tcells.nosuch'"]),
    "calibrate toxicity: --n 0": (["calibrate", "toxicity", "--n", "0"], "blinasim calibrate toxicity", 2, ["'--n'"]),
    "calibrate toxicity: --seed twice": (["calibrate", "toxicity", "--seed", "7", "--seed", "7"],
                                         "blinasim calibrate toxicity", 2, ["--seed 7 given more than once"]),
    "calibrate verify: --json dir": (["calibrate", "verify", "--json", "/nonexistent/dir/v.json"],
                                     "blinasim calibrate verify", 2, ["directory '/nonexistent/dir' does not exist"]),
    "unknown command": (["nope"], "blinasim", 2, ["No such command 'nope'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_every_command_fails_in_the_one_style(case, files, monkeypatch):
    argv, command, code, fragments = CASES[case]
    monkeypatch.chdir(ROOT)
    result = cli(*(a.format(d=files) for a in argv))
    lines = assert_error(result, command, code, *fragments)
    assert "resume=True" not in result.stderr and "scheduler=" not in result.stderr  # no Python spelling here
    assert lines[0].count("error:") == 1


def test_every_command_is_covered():
    from blinasim.cli import app

    def names(typer_app, prefix=""):
        for info in typer_app.registered_commands:
            yield prefix + (info.name or info.callback.__name__.replace("_", "-"))
        for group in typer_app.registered_groups:
            yield from names(group.typer_instance, f"{prefix}{group.name} ")

    covered = {CASES[c][1].removeprefix("blinasim ") for c in CASES}
    assert set(names(app)) <= covered


def test_the_exit_statuses_and_the_debug_switch_are_documented():
    text = (ROOT / "docs" / "getting-started.md").read_text()
    section = text[text.index("## Errors") :]
    for word in ("exit status", "`2`", "`1`", "`130`", "--debug", "BLINASIM_DEBUG=1", "hint:"):
        assert word in section, word


# ------------------------------------------------------------------------------- runtime failures, --debug


def test_an_unexpected_failure_is_exit_1_with_a_hint_and_the_traceback_only_when_debugging(monkeypatch):
    import blinasim.experiments.store

    def broken(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(blinasim.experiments.store, "store_status", broken)
    monkeypatch.delenv("BLINASIM_DEBUG", raising=False)
    lines = assert_error(cli("status", "s.zarr"), "blinasim status", 1, "unexpected failure: ZeroDivisionError")
    assert lines[-1].startswith("hint: ") and "BLINASIM_DEBUG=1" in lines[-1]
    for result in (cli("--debug", "status", "s.zarr"), cli("status", "s.zarr", env={"BLINASIM_DEBUG": "1"})):
        assert result.exit_code == 1
        assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr
        assert CLI_ERROR.match(result.stderr.splitlines()[-2]), result.stderr  # the message still ends it


def test_a_refusal_of_the_machine_is_a_runtime_failure_naming_the_file(monkeypatch):
    import blinasim.experiments.store

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/data/s.zarr/zarr.json")

    monkeypatch.setattr(blinasim.experiments.store, "store_status", refused)
    assert_error(cli("status", "s.zarr"), "blinasim status", 1, "Permission denied", "/data/s.zarr/zarr.json")


def test_ctrl_c_ends_a_run_with_one_line_and_exit_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "blinasim.cli", "run", "--out", str(tmp_path / "r.zarr"), "--set", "simulation.days=60"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # As from a shell: Ctrl-C not ignored, whatever this test process inherited or was left with.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    first = proc.stderr.readline()  # "kernels: ..." : the command is running
    assert first.startswith("kernels"), first
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    err = first + rest
    assert proc.returncode == 130, (err, f"SIGINT in the test process: {signal.getsignal(signal.SIGINT)}")
    assert "Traceback" not in err and "\nblinasim run: error: interrupted" in "\n" + err, err
    assert not (tmp_path / "r.zarr").exists()


# ------------------------------------------------------------------------------- the API's own spelling


def test_api_errors_name_python_arguments_and_the_cli_spells_them_as_options(tmp_path):
    from blinasim.experiments.experiment import Experiment
    from blinasim.experiments.sweep import SweepError, run_sweep

    exp = Experiment.from_toml(write_experiment(tmp_path, replicates=1))
    (tmp_path / "s.zarr").mkdir()
    with pytest.raises(SweepError) as info:
        run_sweep(exp, tmp_path / "s.zarr", workers=1, progress=False)
    (problem,) = info.value.problems
    assert "pass resume=True to continue it" in problem and "--" not in problem
    assert info.value.spelled(cli_spelling) == [problem.replace("resume=True", "--resume")]
    with pytest.raises(SweepError) as info:
        run_sweep(exp, tmp_path / "t.zarr", workers=1, dask_local=1)
    assert "--" not in str(info.value) and "workers, scheduler and dask_local" in str(info.value)


def test_the_config_api_names_overrides_not_set():
    from blinasim.params.schema import ConfigError, load_config, parse_overrides

    for call in (lambda: parse_overrides(["simulation.days"]), lambda: load_config(None, {"nope.key": 1})):
        with pytest.raises(ConfigError) as info:
            call()
        assert "--set" not in str(info.value) and "override" in str(info.value)


@pytest.mark.parametrize(
    ("value", "python", "option"),
    [
        (None, "resume", "--resume"),
        (True, "resume=True", "--resume"),
        (False, "resume=False", "--no-resume"),
        ("'a b'", "resume='a b'", "--resume 'a b'"),
    ],
)
def test_an_argument_reads_as_a_keyword_or_as_an_option(value, python, option):
    text = f"x {arg('resume', value)} y"
    assert spell(text) == f"x {python} y"
    assert spell(text, cli_spelling) == f"x {option} y"
    assert cli_spelling("out_dir", "D", options={"out_dir": "--out"}) == "--out D"
    assert cli_spelling("dask_local", "2") == "--dask-local 2"


def test_an_error_keeps_its_arguments_marked_across_processes():
    err = BlinasimError([f"pass {arg('resume', True)}", "plain"])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is BlinasimError and back.problems == ["pass resume=True", "plain"]
    assert back.spelled(cli_spelling) == ["pass --resume", "plain"]


def test_a_missing_extra_names_the_options_in_each_spelling():
    from blinasim.extras import MissingExtraError

    err = MissingExtraError("dask", f"a Dask executor ({arg('scheduler')}, {arg('dask_local')})", "distributed")
    assert "(scheduler, dask_local)" in str(err)
    assert "(--scheduler, --dask-local)" in err.spelled(cli_spelling)[0]
    assert pickle.loads(pickle.dumps(err)).spelled(cli_spelling) == err.spelled(cli_spelling)


# ------------------------------------------------------------------------------- terminal tables


def test_markdown_rows_split_as_the_report_escapes_them():
    import pandas as pd

    from blinasim.experiments.report import _table

    df = pd.DataFrame({"endpoint": ["a|b", "c\\d"], "arm": ["x", "y"], "n": [3, 12]})
    header, rule, *rows = _table(df, ["endpoint", "arm", "n"])
    assert terminal.split_row(header) == ["endpoint", "arm", "n"]
    assert [terminal.split_row(r) for r in rows] == [["a|b", "x", "3"], ["c\\d", "y", "12"]]
    text = terminal.render(terminal.print_markdown, "\n".join(["## T", "", header, rule, *rows]) + "\n")
    lines = text.splitlines()
    assert lines[0] == "T" and lines[2].split() == ["endpoint", "arm", "n"]
    assert lines[4].split() == ["a|b", "x", "3"] and lines[5].split() == ["c\\d", "y", "12"]
    assert lines[5].endswith("12") and lines[4].endswith(" 3")  # numbers right-aligned


def test_a_table_in_a_pipe_is_plain_full_width_and_one_row_per_line():
    long = "a very long arm name " * 8
    text = terminal.render(terminal.print_table, ["arm", "done"], [[long.strip(), "1"], ["b", "22"]], title="runs")
    lines = text.splitlines()
    assert "\x1b[" not in text and lines[0] == "runs"
    assert lines[3].startswith(long.strip()) and lines[3].endswith(" 1")
    assert all(line == line.rstrip() for line in lines) and len(lines) == 5
    assert set(lines[2]) == {"-"}  # an ASCII rule under the header


def test_a_table_on_a_terminal_fits_its_width_folds_and_respects_no_color(monkeypatch):
    from rich.console import Console

    long = "x" * 150
    for no_color in (False, True):
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        buf = io.StringIO()
        con = Console(file=buf, force_terminal=True, width=60, color_system="standard")
        monkeypatch.setattr(terminal, "console", lambda file=None, con=con: con)
        terminal.print_table(["arm", "value"], [[long, "1.5"]], title="t")
        text = buf.getvalue()
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
        assert all(len(line) <= 60 for line in plain)
        assert "".join(line.split()[0] for line in plain[3:] if line.strip()) == long  # folded, not cut
        assert bool(re.search(r"\x1b\[(?:[0-9]+;)*36[;m]", text)) != no_color  # the cyan title, unless NO_COLOR
        assert "\x1b[1" in text  # bold stays: NO_COLOR turns off colour only
