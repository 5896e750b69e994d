"""Command line: a thin layer over the Python API.

Every command maps to one call of the API (``load_config``, ``simulate``,
``write_dataset``). Every failure, of any command, ends in one style on stderr
(docs/getting-started.md, "Errors")::

    blinasim COMMAND: error: WHAT IS WRONG:
      - one line per problem, naming the key, option or file and what is allowed
    hint: what to do next (sometimes)

with exit status 2 for bad input (a config, an option, a file, an experiment, a
store; nothing is written), 1 for a failure at run time (runs that failed, an
unexpected error) and 130 for Ctrl-C; never a traceback, unless ``--debug`` or
``BLINASIM_DEBUG=1`` asks for one. Every bad input of the API is a
:class:`blinasim.errors.BlinasimError` with its ``problems``, caught as that base and
spelt for the command line (its arguments as options: ``resume=True`` reads
``--resume``); click's own usage errors take the same form. A feature whose optional
package is not installed ends the same way, under its own heading: the message names
the extra to install (:mod:`blinasim.extras`).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from blinasim.errors import BlinasimError, cli_spelling
from blinasim.extras import MissingExtraError, requires_extra
from blinasim.params.schema import Config, load_config, parse_overrides, read_toml
from blinasim.version import __version__

#: Exit statuses (docs/getting-started.md, "Errors").
EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

#: Arguments of the API whose option has another name, per command (default: ``out_dir`` -> ``--out-dir``).
OPTION_NAMES: dict[str, dict[str, str]] = {
    "sweep": {"store": "--out"},
    "report": {"out_dir": "--out"},
}

DEBUG_ENV = "BLINASIM_DEBUG"
_debug = False
#: The command running now, e.g. ``"calibrate verify"`` (set by the wrapper of every command).
_running = ""

# click's exceptions as typer raises them (recent typer vendors its own copy of click; older typer uses click).
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def debugging() -> bool:
    """Whether errors show their traceback too (``--debug``, or ``BLINASIM_DEBUG`` set to anything but 0)."""
    return _debug or os.environ.get(DEBUG_ENV, "0").strip().lower() not in ("", "0", "false", "no")


class CliError(Exception):
    """A failure of a command, as the user sees it: a heading, its problems, an optional hint, an exit status.

    Raised inside a command (or while the command line is parsed) and printed once, by
    :meth:`_Group.main`, in the one error style of the command line.
    """

    def __init__(
        self,
        what: str,
        problems: list[str] | None = None,
        hint: str | None = None,
        code: int = EXIT_BAD_INPUT,
        command: str = "blinasim",
    ):
        self.what, self.problems, self.hint, self.code = what, list(problems or []), hint, code
        self.command = command  # the command path, e.g. "blinasim calibrate verify"
        super().__init__(what)

    def format(self) -> str:
        """``blinasim COMMAND: error: WHAT[:]``, the problems indented, then ``hint: ...``."""
        lines = [f"{self.command}: error: {self.what}{':' if self.problems else ''}"]
        lines += [f"  - {p}" for p in self.problems]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


def _command_path(group, args: list[str]) -> str:
    """``blinasim`` and the (sub)command names found in ``args``: who reports an error found before parsing."""
    path, node = ["blinasim"], group
    for a in args:
        commands = getattr(node, "commands", None)
        if commands is None:
            break
        if a in commands:
            path.append(a)
            node = commands[a]
        elif not a.startswith("-"):
            break
    return " ".join(path)


def set_misuse(args: list[str]) -> list[str]:
    """The ``--set KEY VALUE`` items of a command line (a space where ``=`` belongs), each explained.

    ``--set patient.t_cells_per_ul 800`` would otherwise make ``800`` the CONFIG argument
    (or an unexpected extra argument); the key without ``=`` is never a valid ``--set``.
    """
    problems = []
    for i, arg in enumerate(args):
        if arg == "--set":
            key, rest = (args[i + 1], args[i + 2 :]) if i + 1 < len(args) else ("", [])
        elif arg.startswith("--set="):
            key, rest = arg[len("--set=") :], args[i + 1 :]
        else:
            continue
        if key and "=" not in key and not key.startswith("-") and rest and not rest[0].startswith("-"):
            problems.append(
                f"--set {key} {rest[0]}: KEY and VALUE are one argument joined by '=', "
                f"e.g. --set {key}={rest[0]} (no spaces around '=')"
            )
    return problems


class _Group(typer.core.TyperGroup):
    """The command group: reads the whole command line once, before any command parses it, and
    prints every failure, its own or click's, in the one error style."""

    def parse_args(self, ctx, args):
        problems = set_misuse(list(args))
        if problems:
            raise CliError("invalid --set", problems, command=_command_path(self, list(args)))
        return super().parse_args(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        error = None
        try:
            code = super().main(argv, "blinasim", complete_var, standalone_mode=False, **extra)
            code = code if isinstance(code, int) else 0
        except CliError as err:
            error = err
        except _UsageError as err:  # click's: an unknown option, a missing one, a value out of range
            path = err.ctx.command_path if err.ctx is not None else _command_path(self, argv)
            if type(err).__name__ == "NoArgsIsHelpError":  # a command group alone: its help, as click shows it
                err.show()
                code = err.exit_code
            else:
                hint = f"{path} --help lists what it takes"
                error = CliError("invalid command line", [err.format_message()], hint, command=path)
        except _ClickException as err:
            error = CliError(err.format_message(), code=err.exit_code, command=_command_path(self, argv))
        except typer.Abort:
            error = CliError("interrupted", code=EXIT_INTERRUPTED, command=_command_path(self, argv))
        if error is not None:
            typer.echo(error.format(), err=True)
            code = error.code
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="blinasim: virtual B-ALL patients under blinatumomab.",
)


def version_text() -> str:
    """``blinasim X (numpy A, numba B, mesa C, Python D)``, without importing numba or mesa."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    deps = ", ".join(f"{name} {v(name)}" for name in ("numpy", "numba", "mesa", "xarray", "zarr"))
    return f"blinasim {__version__} ({deps}; Python {platform.python_version()})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the versions and exit."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help=f"Show the traceback of an error too (or set {DEBUG_ENV}=1).")
    ] = False,
) -> None:
    """blinasim: virtual B-ALL patients under blinatumomab."""
    global _debug
    _debug = debug


def _fail(problems: list[str], what: str = "invalid input", hint: str | None = None) -> None:
    """End the command with bad input: ``what`` and one line per problem (exit status 2)."""
    raise CliError(what, problems, hint, EXIT_BAD_INPUT)


def _spelled(exc: BlinasimError) -> list[str]:
    """The problems of an API error for the command line: its arguments as the running command's options."""
    return exc.spelled(functools.partial(cli_spelling, options=OPTION_NAMES.get(_running, {})))


def _fail_on(exc: BlinasimError, what: str) -> None:
    """:func:`_fail` for an error of the API; a missing optional package gets its own heading in every command."""
    _fail(_spelled(exc), "missing optional dependency" if isinstance(exc, MissingExtraError) else what)


def _load(config: Path | None, set_: list[str] | None):
    from blinasim.experiments.spec import time_grid_problems  # lazy: the CLI starts fast

    what = f"invalid configuration{f' {str(config)!r}' if config else ''}"
    try:
        cfg = load_config(config, parse_overrides(set_ or [], source="--set"), source="--set")
    except BlinasimError as exc:
        _fail_on(exc, what)
    problems = time_grid_problems(cfg)
    if problems:
        _fail(problems, what)
    return cfg


def _write_text(path: Path, text: str, option: str) -> None:
    """Write a small text output whole (temporary file, then rename); a failed write is one message."""
    import tempfile

    from blinasim.core.io import describe_os_error  # lazy: the CLI starts fast

    parent = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        _fail([f"{option} {str(path)!r}: cannot write: {describe_os_error(exc)}; nothing was written"], "cannot write")


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config key by its dotted path, e.g. --set patient.t_cells_per_ul=800."),
]


def _replace_existing(out: Path, overwrite: bool) -> None:
    """Refuse an existing output unless ``--overwrite``; with it, check it can go (a file or a Zarr store)."""
    if not out.exists():
        return
    if not overwrite:
        _fail(
            [f"--out {str(out)!r} already exists; choose another path, remove it or pass --overwrite"], "output exists"
        )
    if out.is_dir() and not (out / "zarr.json").is_file() and not (out / ".zgroup").is_file():
        _fail(
            [f"--out {str(out)!r} is a directory but not a Zarr store; --overwrite replaces only outputs"],
            "output exists",
        )


def _write_replacing(write, out: Path, overwrite: bool) -> Path:
    """``write(path)`` to ``out``; with ``overwrite`` an existing ``out`` is replaced only once the new one is
    complete (written to a sibling first, then swapped in), so a failed write leaves the old output."""
    import os
    import shutil

    if not (overwrite and out.exists()):
        return write(out)
    new = out.with_name(f".{out.stem}.new-{os.getpid()}{out.suffix}")
    old = out.with_name(f".{out.stem}.old-{os.getpid()}{out.suffix}")
    try:
        write(new)
        os.replace(out, old)
        os.replace(new, out)
    finally:
        for leftover in (new, old):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.exists():
                leftover.unlink()
    return out


def load_kernels(say) -> None:
    """The "kernels" stage before a run: say whether they load or compile and how long that takes, then do it."""
    from blinasim.core import warmup  # lazy: importing numba takes seconds; the CLI starts fast

    status = warmup.cache_status()
    say(f"kernels: {status.describe()} ...")
    seconds = warmup.warm_up()
    say(f"kernels: ready in {seconds:.1f} s")


class DayProgress:
    """A progress bar in simulated days (the model's ``progress(tick, n_ticks)`` callback)."""

    def __init__(self, days: float, enabled: bool):
        from tqdm import tqdm

        self.days = float(days)
        self.bar = tqdm(
            total=self.days,
            disable=not enabled,
            desc="simulating",
            file=sys.stderr,
            mininterval=1.0,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| day {n:.1f} of {total:g} [{elapsed}<{remaining}]",
        )

    def __call__(self, tick: int, n_ticks: int) -> None:
        day = self.days * tick / max(n_ticks, 1)
        self.bar.update(day - self.bar.n)

    def close(self) -> None:
        self.bar.close()


@app.command()
def run(
    config: Annotated[Path | None, typer.Argument(help="TOML config; the built-in default when omitted.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output path: *.nc writes netCDF, anything else Zarr.")] = ...,
    set_: SetOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False,
    progress: Annotated[bool, typer.Option(help="Show the stages and a progress bar in simulated days.")] = True,
) -> None:
    """Simulate one virtual patient and write its Dataset."""
    from blinasim import simulate, write_dataset  # lazy: the CLI starts fast
    from blinasim.core.io import check_writable_dir, require_backend  # lazy: the CLI starts fast

    cfg = _load(config, set_)
    _replace_existing(out, overwrite)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        _fail([f"--out {str(out)!r}: directory {str(parent)!r} does not exist"], "bad output path")
    try:
        check_writable_dir(parent, f"--out {str(out)!r}")  # before the simulation, not after it
    except BlinasimError as exc:
        _fail_on(exc, "bad output path")
    require_backend(out)  # before the simulation: a *.nc file needs the netcdf extra

    def say(msg: str) -> None:
        if progress:
            typer.echo(msg, err=True)

    load_kernels(say)
    bar = DayProgress(cfg.simulation.days, progress)
    try:
        ds = simulate(cfg, progress=bar)
    finally:
        bar.close()
    try:
        path = _write_replacing(lambda p: write_dataset(ds, p), out, overwrite)
    except (BlinasimError, FileExistsError, FileNotFoundError) as exc:
        _fail(exc.problems if isinstance(exc, BlinasimError) else [str(exc)], "cannot write the output")
    typer.echo(f"wrote {path}")


@app.command()
def warmup() -> None:
    """Load every kernel, compiling (and caching) those not cached yet; later runs start warm."""
    from blinasim.core import warmup as kernels  # lazy: importing numba takes seconds; the CLI starts fast

    before = kernels.cache_status()
    typer.echo(f"kernels: {before.describe()} ...", err=True)
    seconds = kernels.warm_up()
    after = kernels.cache_status()
    typer.echo(
        f"kernels ready in {seconds:.1f} s: {after.cached} compiled kernels cached in {after.where}"
        + ("" if after.warm else " (the cache folder is not writable: every process compiles again)")
    )


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="TOML config, or an experiment file (it has an [experiment] table).")],
    set_: SetOption = None,
) -> None:
    """Check a config or an experiment file and explain every error."""
    from blinasim.experiments.spec import is_experiment_file  # lazy: the CLI starts fast

    if is_experiment_file(config):
        from blinasim.experiments.experiment import Experiment  # lazy: the CLI starts fast

        if set_:
            _fail(
                ["--set applies to a config file; an experiment sets its base config in its [base] table"],
                "invalid option",
            )
        try:
            experiment = Experiment.from_toml(config)
        except BlinasimError as exc:
            _fail_on(exc, f"invalid experiment {str(config)!r}")
        typer.echo(f"{config}: valid experiment")
        typer.echo(experiment.plan.summary())
        return
    cfg = _load(config, set_)
    typer.echo(f"{config}: valid ({cfg.simulation.days:g} days, regimen {cfg.treatment.regimen!r})")


@app.command()
def bench(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Comma-separated sizes: small (~1e4 agents), medium, large, xlarge (~1e7).")
    ] = "small,medium",
    days: Annotated[
        float | None, typer.Option("--days", help="Simulated days per run (default: 1, xlarge 0.5).")
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Timed runs of the numba core per size (median).")] = 3,
    reference: Annotated[
        bool, typer.Option("--reference/--no-reference", help="Compare with the Mesa reference (not at xlarge; slow).")
    ] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the records as JSON here.")] = None,
) -> None:
    """The numba core against the Mesa reference, in one run: agent-updates/s and their ratio.

    The full harness (memory, JIT time, scaling) is benchmarks/bench_core.py in the source repository.
    """
    import json

    from blinasim import terminal  # lazy: the CLI starts fast (rich)
    from blinasim.reference import benchmark  # lazy: the CLI starts fast

    try:
        names = benchmark.parse_sizes(sizes)
        benchmark.check_options(days, repeats)
    except BlinasimError as exc:
        _fail_on(exc, "invalid option")
    if json_path is not None and not (json_path.parent if str(json_path.parent) else Path(".")).is_dir():
        _fail([f"--json {str(json_path)!r}: directory {str(json_path.parent)!r} does not exist"], "bad output path")
    records = benchmark.compare(
        names, days=days, repeats=repeats, reference=reference, progress=lambda msg: typer.echo(msg, err=True)
    )
    terminal.print_table(*benchmark.table_rows(records))
    for note in benchmark.reference_notes(records):
        typer.echo(f"note: {note}")
    if json_path is not None:
        _write_text(json_path, json.dumps(records, indent=2) + "\n", "--json")
        typer.echo(f"wrote {json_path}")


@app.command()
def view(
    config: Annotated[Path | None, typer.Argument(help="TOML config; the built-in default when omitted.")] = None,
    set_: SetOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to serve on (127.0.0.1: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 8765,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser on the page.")] = False,
) -> None:
    """Watch one virtual patient: the marrow lattice, drug level, IL-6 and census, live in the browser (Mesa SolaraViz).

    Serves http://HOST:PORT until Ctrl-C; play/step/reset and the patient's parameters are in the sidebar.
    """
    import json
    import os
    import socket

    _load(config, set_)  # the config is checked here, once, with the CLI's messages
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            _fail(
                [f"--host {host} --port {port}: cannot serve there ({exc.strerror}); choose another --port"],
                "bad option",
            )
    with requires_extra("view", "blinasim view"):
        import altair  # noqa: F401
        import solara  # noqa: F401
        from solara.__main__ import cli as solara_cli
    from blinasim import view as view_module  # lazy: imports the simulation and Mesa's viz (seconds)

    os.environ[view_module.ENV_CONFIG] = str(config.resolve()) if config is not None else ""
    os.environ[view_module.ENV_OVERRIDES] = json.dumps(parse_overrides(set_ or [], source="--set"))
    typer.echo(f"blinasim view: serving http://{host}:{port} (Ctrl-C stops it)", err=True)
    args = ["run", "blinasim.view", "--host", host, "--port", str(port), "--production", "--no-check-version"]
    args.append("--open" if open_browser else "--no-open")
    try:
        solara_cli.main(args, prog_name="solara", standalone_mode=False)
    except KeyboardInterrupt:  # Ctrl-C is how the view is meant to stop: not an error
        typer.echo("blinasim view: stopped", err=True)


@app.command()
def examples(
    directory: Annotated[Path, typer.Argument(help="Folder to copy the example experiments into (made if missing).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace example files already there.")] = False,
) -> None:
    """Copy the example experiments (the TOML files and the cohort CSV they use) into DIRECTORY."""
    from importlib.resources import files

    source = files("blinasim") / "examples"
    names = sorted(p.name for p in source.iterdir() if p.name.endswith((".toml", ".csv")))
    if directory.exists() and not directory.is_dir():
        _fail([f"{str(directory)!r} exists and is not a directory"], "bad output path")
    clash = [n for n in names if (directory / n).exists()]
    if clash and not overwrite:
        _fail(
            [f"{str(directory / n)!r} already exists" for n in clash]
            + ["pass --overwrite to replace them, or choose another directory"],
            "output exists",
        )
    parent = directory.parent if str(directory.parent) else Path(".")
    if not directory.exists() and not parent.is_dir():
        _fail([f"{str(directory)!r}: directory {str(parent)!r} does not exist"], "bad output path")
    directory.mkdir(exist_ok=True)
    for name in names:
        (directory / name).write_bytes((source / name).read_bytes())
    typer.echo(f"copied {len(names)} files to {directory}: {', '.join(names)}")
    typer.echo(f"try: blinasim run {directory / 'default.toml'} --out run.zarr", err=True)


# ----------------------------------------------------------------- experiments
# sweep / status / report / export: thin wrappers over blinasim.experiments.spec,
# blinasim.experiments.sweep, blinasim.experiments.store and blinasim.experiments.report.


def _refuse_a_config(path: Path) -> None:
    """A config file given where an experiment belongs: one line saying so, not each of its tables as an unknown key."""
    from blinasim.experiments.spec import is_experiment_file  # lazy: the CLI starts fast

    try:
        data = read_toml(path, "experiment file")
    except BlinasimError:
        return  # the experiment reader explains it
    if data and not is_experiment_file(path) and set(data) <= set(Config.model_fields):
        _fail(
            [f"{str(path)!r} is a config file (of one patient), not an experiment: it has no [experiment] table"],
            f"invalid experiment {str(path)!r}",
            hint=f"blinasim run {path} --out OUT runs it; an experiment puts it under [base] (docs/experiments.md)",
        )


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(help="Experiment TOML (arms, sampler, replicates; docs/experiments.md).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Zarr store to create (default: output.store of the experiment).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local worker processes (default: all cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Run on a Dask scheduler, e.g. tcp://host:8786.")
    ] = None,
    dask_local: Annotated[
        int | None, typer.Option("--dask-local", min=1, help="Start a Dask LocalCluster with N worker processes.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an existing store: skip done runs, run pending and failed ones.")
    ] = False,
    write: Annotated[
        str | None,
        typer.Option("--write", help="Who writes a run into the store: 'worker' (default) or 'parent'."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print the plan; run nothing.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    worker_timeout: Annotated[
        float | None,
        typer.Option(
            "--worker-timeout",
            min=0.001,
            help="Dask: seconds runs wait for a worker while the cluster has none (default 300).",
        ),
    ] = None,
) -> None:
    """Run an experiment: arms x samples x replicates into a resumable Zarr store."""
    from blinasim.experiments.experiment import Experiment  # lazy: the CLI starts fast
    from blinasim.experiments.sweep import run_sweep  # lazy: the CLI starts fast

    _refuse_a_config(config)
    try:
        experiment = Experiment.from_toml(config)
    except BlinasimError as exc:
        _fail_on(exc, f"invalid experiment {str(config)!r}")
    if write is not None and write not in ("worker", "parent"):
        _fail([f"--write {write!r}: use 'worker' or 'parent'"], "invalid option")
    if dry_run:
        typer.echo(experiment.plan.summary())
        return
    try:
        result = run_sweep(
            experiment,
            out,
            workers=workers,
            scheduler=scheduler,
            dask_local=dask_local,
            resume=resume,
            progress=progress,
            write=write,
            on_message=lambda msg: typer.echo(msg, err=True),
            worker_timeout=worker_timeout,
        )
    except BlinasimError as exc:
        _fail_on(exc, "cannot run the sweep")
    except KeyboardInterrupt:
        raise CliError(
            "interrupted", hint="the finished runs are in the store; continue it with --resume", code=EXIT_INTERRUPTED
        ) from None
    typer.echo(result.format())
    if result.failed:
        raise CliError(
            f"{result.failed} of {result.ran} runs failed",
            hint=f"blinasim status {result.store} lists why; --resume runs them again",
            code=EXIT_RUNTIME,
        )


@app.command()
def status(
    store: Annotated[Path, typer.Argument(help="Experiment store written by `blinasim sweep`.")],
    max_failures: Annotated[int, typer.Option("--max-failures", min=0, help="Failure messages to list.")] = 10,
    verify: Annotated[
        bool,
        typer.Option(help="Read every done run back and check its checksum (names damaged runs)."),
    ] = True,
) -> None:
    """Progress of a sweep: done, failed and pending runs per arm, why runs failed, and damaged runs."""
    from blinasim import terminal  # lazy: the CLI starts fast (rich)
    from blinasim.experiments.store import store_status  # lazy: the CLI starts fast

    try:
        st = store_status(store, verify=verify)
    except BlinasimError as exc:
        _fail_on(exc, "cannot read the store")
    terminal.print_blocks(st.blocks(max_failures=max_failures))


@app.command()
def report(
    store: Annotated[Path, typer.Argument(help="Experiment store written by `blinasim sweep`.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Report directory (default: STORE without .zarr + '_report').")
    ] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Level of the confidence intervals.")] = 0.95,
    variables: Annotated[
        str | None, typer.Option("--variables", help="Comma-separated time courses to draw (default: the main ones).")
    ] = None,
    formats: Annotated[str, typer.Option("--formats", help="Figure formats, comma-separated.")] = "png,svg",
) -> None:
    """Endpoints per arm with confidence intervals, paired differences, time courses, sensitivity indices."""
    from blinasim import terminal  # lazy: the CLI starts fast (rich)
    from blinasim.experiments.report import make_report  # lazy: the CLI starts fast

    names = [v.strip() for v in variables.split(",") if v.strip()] if variables else None
    try:
        rep = make_report(
            store,
            out,
            confidence=confidence,
            variables=names,
            formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
            progress=lambda msg: typer.echo(f"report: {msg}", err=True),
        )
    except BlinasimError as exc:
        _fail_on(exc, "cannot report")
    terminal.print_markdown(rep.to_markdown())  # summary.md, its tables drawn for the terminal
    typer.echo(f"wrote {rep.out_dir}", err=True)


@app.command()
def export(
    store: Annotated[Path, typer.Argument(help="Experiment store written by `blinasim sweep`.")],
    out: Annotated[Path, typer.Option("--out", help="netCDF file to write (*.nc).")] = ...,
    allow_incomplete: Annotated[
        bool, typer.Option("--allow-incomplete", help="Export even if some runs are pending or failed.")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False,
) -> None:
    """Export a finished experiment store as one netCDF file."""
    from blinasim.experiments.store import export_netcdf  # lazy: the CLI starts fast

    _replace_existing(out, overwrite)
    if out.is_dir():
        _fail([f"--out {str(out)!r} is a directory; export writes one netCDF file (*.nc)"], "output exists")
    try:
        path = _write_replacing(lambda p: export_netcdf(store, p, allow_incomplete=allow_incomplete), out, overwrite)
    except BlinasimError as exc:
        _fail_on(exc, "cannot export")
    except FileNotFoundError as exc:
        _fail([str(exc)], "cannot export")
    typer.echo(f"wrote {path}")


# ----------------------------------------------------------------- calibration
# calibrate search / scan / toxicity / verify: thin wrappers over blinasim.trials.calibration;
# the patients run on an executor of blinasim.experiments.sweep.

calibrate_app = typer.Typer(
    no_args_is_help=True,
    help="Calibrate the uncertain defaults against published targets (the stages of docs/validation.md).",
)
app.add_typer(calibrate_app, name="calibrate")

WorkersOption = Annotated[
    int | None, typer.Option("--workers", min=1, help="Local worker processes (default 2; 1 runs in this process).")
]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="Run the patients on a Dask scheduler, e.g. tcp://host:8786.")
]
DaskLocalOption = Annotated[
    int | None, typer.Option("--dask-local", min=1, help="Run the patients on a Dask LocalCluster of N workers.")
]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Also write the record as JSON here.")]


def _check_output(path: Path | None, option: str) -> None:
    if path is not None and not (path.parent if str(path.parent) else Path(".")).is_dir():
        _fail([f"{option} {str(path)!r}: directory {str(path.parent)!r} does not exist"], "bad output path")


def _overrides(set_: list[str] | None) -> dict:
    """The ``--set`` overrides, checked against the schema before any patient runs."""
    try:
        overrides = parse_overrides(set_ or [], source="--set")
        load_config(None, overrides, source="--set")
    except BlinasimError as exc:
        _fail_on(exc, "invalid --set")
    return overrides


def _calibrate(stage, workers: int | None, scheduler: str | None, dask_local: int | None):
    """Run ``stage(executor)`` on the executor the options ask for, closed afterwards; bad input exits."""
    from blinasim.experiments.sweep import InProcessExecutor, make_executor  # lazy: the CLI starts fast

    dask = scheduler is not None or dask_local is not None
    local = workers if workers is not None or dask else 2
    try:
        if local == 1 and not dask:
            executor = InProcessExecutor()
        else:
            executor = make_executor(workers=local, scheduler=scheduler, dask_local=dask_local)
    except BlinasimError as exc:
        _fail_on(exc, "invalid option")
    try:
        return stage(executor)
    except BlinasimError as exc:
        _fail_on(exc, "cannot calibrate")
    finally:
        executor.close()


def _run_stage(stage, set_, json_path: Path | None, workers, scheduler, dask_local) -> None:
    """Check ``--set`` and ``--json``, run ``stage(overrides, executor)`` on the executor the options
    ask for, and write the record it returns (``to_json``) to ``--json``."""
    overrides = _overrides(set_)
    _check_output(json_path, "--json")
    result = _calibrate(lambda executor: stage(overrides, executor), workers, scheduler, dask_local)
    if json_path is not None:
        import json

        _write_text(json_path, json.dumps(result.to_json(), indent=1), "--json")


@calibrate_app.command("search")
def calibrate_search(
    n: Annotated[int, typer.Option("--n", min=1, help="Patients per trial per candidate.")] = 24,
    candidates: Annotated[
        int, typer.Option("--candidates", "--trials", min=1, help="Candidates to run, the starting point included.")
    ] = 40,
    startup: Annotated[int, typer.Option("--startup", min=0, help="Random candidates before the TPE model.")] = 12,
    assays: Annotated[int, typer.Option("--assays", min=1, help="In-vitro co-culture seeds per candidate.")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Cohort, run and sampler seed.")] = 2024,
    out: Annotated[Path, typer.Option("--out", help="JSON of every candidate, rewritten after each.")] = Path(
        "calibration.json"
    ),
    parameters: Annotated[
        str | None,
        typer.Option("--parameters", help="Comma-separated subset of the calibrated parameters (default: all)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", metavar="JSON:CANDIDATE", help="Start from a candidate of an earlier search, not the defaults."
        ),
    ] = None,
    warm_start: Annotated[
        Path | None,
        typer.Option("--warm-start", help="JSON of an earlier search (same --n, --seed): told to the optimiser first."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
) -> None:
    """Stages 1-5: Bayesian search of the calibrated parameters against every target (needs optuna)."""
    from blinasim.trials.calibration import search  # lazy: the CLI starts fast

    _check_output(out, "--out")
    names = [k.strip() for k in parameters.split(",") if k.strip()] if parameters is not None else None
    record = _calibrate(
        lambda executor: search(
            n,
            candidates,
            startup=startup,
            assays=assays,
            seed=seed,
            parameters=names,
            start=start,
            warm_start=None if warm_start is None else str(warm_start),
            out=out,
            runner=executor,
            on_message=typer.echo,
        ),
        workers,
        scheduler,
        dask_local,
    )
    import json

    typer.echo("best: " + json.dumps(record["best"], indent=1))


RRCohortSize = Annotated[int, typer.Option("--n", min=1, help="MT103-211-like patients.")]
CalibrationSeed = Annotated[int, typer.Option("--seed", help="Cohort and run seed (the calibration's).")]


def _rr_stage_command(run_stage):
    """A command of a stage that runs the MT103-211-like calibration cohort (stages 6 and 7):
    ``run_stage(cohort, seed, overrides, executor)`` returns a record with ``to_json``."""

    def command(
        n: RRCohortSize = 240,
        seed: CalibrationSeed = 2024,
        set_: SetOption = None,
        json_path: JsonOption = None,
        workers: WorkersOption = None,
        scheduler: SchedulerOption = None,
        dask_local: DaskLocalOption = None,
    ) -> None:
        from blinasim.trials.cohort import draw_cohort  # lazy: the CLI starts fast

        cohort = draw_cohort("mt103_211", n, seed)
        _run_stage(
            lambda overrides, executor: run_stage(cohort, seed, overrides, executor),
            set_,
            json_path,
            workers,
            scheduler,
            dask_local,
        )

    return command


def _scan(cohort, seed, overrides, executor):
    from blinasim.trials.calibration import rr_scan  # lazy: the CLI starts fast

    result = rr_scan(cohort, seed, overrides, runner=executor)
    typer.echo(result.format())
    return result


calibrate_app.command(
    "scan", help="Stage 6: the R/R calibration cohort's CR/CRh and cycle-1 peak CRS-signal quantiles."
)(_rr_stage_command(_scan))


@calibrate_app.command("toxicity")
def calibrate_toxicity_command(
    n: Annotated[int, typer.Option("--n", min=1, help="MT103-211-like patients per cohort.")] = 240,
    seed: Annotated[
        list[int] | None,
        typer.Option("--seed", help="Cohort and run seed; repeat for several cohorts, whose peaks are pooled."),
    ] = None,
    set_: SetOption = None,
    json_path: JsonOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
) -> None:
    """Stage 7: the IL-6 gain and the CRS and neurotoxicity grade thresholds from the cohorts' pooled peaks."""
    from blinasim.trials.calibration import calibrate_toxicity  # lazy: the CLI starts fast
    from blinasim.trials.cohort import draw_cohort  # lazy: the CLI starts fast

    given = seed or [2024]
    seeds = list(dict.fromkeys(given))
    if len(seeds) < len(given):
        repeated = sorted({s for s in given if given.count(s) > 1})
        _fail([f"--seed {', '.join(map(str, repeated))} given more than once: give each cohort's seed once"])
    cohorts = {s: draw_cohort("mt103_211", n, s) for s in seeds}
    _run_stage(
        lambda overrides, executor: calibrate_toxicity(cohorts, overrides, runner=executor, on_message=typer.echo),
        set_,
        json_path,
        workers,
        scheduler,
        dask_local,
    )


@calibrate_app.command("verify")
def calibrate_verify(
    n: Annotated[int, typer.Option("--n", min=1, help="Patients per trial.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Cohort and run seed (one no calibration step used).")] = 7,
    assays: Annotated[int, typer.Option("--assays", min=1, help="In-vitro co-culture seeds.")] = 2,
    set_: SetOption = None,
    json_path: JsonOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
) -> None:
    """Verification: MT103-211-like and BLAST-like virtual trials against every target."""
    from blinasim.trials.calibration import verify  # lazy: the CLI starts fast

    def stage(overrides, executor):
        from blinasim import terminal  # lazy: the CLI starts fast (rich)

        result = verify(n, seed, overrides, assays=assays, runner=executor)
        terminal.print_blocks(result.blocks())
        return result

    _run_stage(stage, set_, json_path, workers, scheduler, dask_local)


def _as_cli_error(exc: BaseException) -> CliError:
    """Any failure that leaves a command, as the :class:`CliError` the user sees."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, BlinasimError):  # bad input the command did not catch under a heading of its own
        what = "missing optional dependency" if isinstance(exc, MissingExtraError) else "invalid input"
        return CliError(what, _spelled(exc))
    if isinstance(exc, KeyboardInterrupt):
        return CliError("interrupted", code=EXIT_INTERRUPTED)
    debug_hint = f"{DEBUG_ENV}=1 (or blinasim --debug COMMAND ...) shows the traceback"
    if isinstance(exc, OSError):  # the machine said no: a full disk, a permission, a vanished file
        where = f" ({exc.filename!r})" if exc.filename else ""
        return CliError(f"failed: {exc.strerror or exc}{where}", hint=debug_hint, code=EXIT_RUNTIME)
    return CliError(
        f"unexpected failure: {type(exc).__name__}: {exc}",
        hint=f"a bug in blinasim or its environment; please report it. {debug_hint}",
        code=EXIT_RUNTIME,
    )


def _one_error_style(command, name: str):
    """Run command ``name``; whatever ends it other than success leaves as a :class:`CliError` naming the
    command (bad input: exit 2; runtime failure: 1; Ctrl-C: 130), with the traceback first only when debugging."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        global _running
        _running = name
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, _ClickException):
            raise  # click's own: help, --version, usage errors (printed by _Group.main)
        except (Exception, KeyboardInterrupt) as exc:
            if debugging():
                import traceback

                traceback.print_exception(exc, file=sys.stderr)
            err = _as_cli_error(exc)
            err.command = f"blinasim {name}"
            raise err from None

    return wrapper


def _wrap_commands(typer_app: typer.Typer, prefix: str = "") -> None:
    for info in typer_app.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        info.callback = _one_error_style(info.callback, prefix + name)
    for group in typer_app.registered_groups:
        _wrap_commands(group.typer_instance, f"{prefix}{group.name} ")


# Every command and command group, present and future: registered above, wrapped here once.
_wrap_commands(app)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
