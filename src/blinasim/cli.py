"""Command line: a thin layer over the Python API.

Every command maps to one call of the API (``load_config``, ``simulate``,
``write_dataset``). Bad input ends with one clear message per problem on
stderr and exit status 2; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from blinasim.config import ConfigError, load_config, parse_overrides

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="blinasim: virtual B-ALL patients under blinatumomab.",
)

EXIT_BAD_INPUT = 2


def _fail(problems: list[str], what: str = "invalid input") -> None:
    typer.echo(f"error: {what}:", err=True)
    for p in problems:
        typer.echo(f"  - {p}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _load(config: Path | None, set_: list[str] | None):
    try:
        return load_config(config, parse_overrides(set_ or []))
    except ConfigError as exc:
        _fail(exc.problems, f"invalid configuration{f' {str(config)!r}' if config else ''}")


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config key by its dotted path, e.g. --set patient.t_cells_per_ul=800."),
]


@app.command()
def run(
    config: Annotated[Path | None, typer.Argument(help="TOML config; the built-in default when omitted.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output path: *.nc writes netCDF, anything else Zarr.")] = ...,
    set_: SetOption = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Simulate one virtual patient and write its Dataset."""
    from tqdm import tqdm

    from blinasim import simulate, write_dataset

    cfg = _load(config, set_)
    if out.exists():
        _fail([f"--out {str(out)!r} already exists; choose another path or remove it"], "output exists")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        _fail([f"--out {str(out)!r}: directory {str(parent)!r} does not exist"], "bad output path")
    bar = tqdm(total=None, unit="tick", disable=not progress, desc="simulating", file=sys.stderr, mininterval=1.0)

    def report(tick: int, n_ticks: int) -> None:
        if bar.total != n_ticks:
            bar.total = n_ticks
        bar.update(tick - bar.n)

    try:
        ds = simulate(cfg, progress=report)
    finally:
        bar.close()
    path = write_dataset(ds, out)
    typer.echo(f"wrote {path}")


@app.command()
def validate(config: Annotated[Path, typer.Argument(help="TOML config to check.")], set_: SetOption = None) -> None:
    """Check a config and explain every error."""
    cfg = _load(config, set_)
    typer.echo(f"{config}: valid ({cfg.simulation.days:g} days, regimen {cfg.treatment.regimen!r})")


@app.command()
def bench(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Comma-separated sizes: small (~1e4 agents), medium, large, xlarge (~1e7).")
    ] = "small,medium,large",
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the records as JSON here.")] = None,
    days: Annotated[
        float | None, typer.Option("--days", help="Simulated days per run (default: 1, xlarge 0.5).")
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Timed runs per size (median and spread).")] = 5,
    reference: Annotated[
        bool, typer.Option("--reference/--no-reference", help="Compare with the Mesa reference (small sizes).")
    ] = True,
    jit: Annotated[bool, typer.Option("--jit/--no-jit", help="Measure cold and cached JIT compile time.")] = True,
    profile: Annotated[bool, typer.Option("--profile", help="Add one run with per-phase timings.")] = False,
) -> None:
    """Measure the numba core: agent-updates/s, memory per agent, JIT time, ratio to the reference."""
    from blinasim import bench as bench_lib

    try:
        names = bench_lib.parse_sizes(sizes)
        bench_lib.check_options(days, repeats)
    except bench_lib.BenchError as exc:
        _fail(exc.problems, "invalid option")
    if json_path is not None and not (json_path.parent if str(json_path.parent) else Path(".")).is_dir():
        _fail([f"--json {str(json_path)!r}: directory {str(json_path.parent)!r} does not exist"], "bad output path")
    records = bench_lib.run_benchmark(
        names,
        days=days,
        repeats=repeats,
        reference=reference,
        jit=jit,
        profile=profile,
        progress=lambda msg: typer.echo(msg, err=True),
    )
    typer.echo(bench_lib.format_table(records))
    if json_path is not None:
        typer.echo(f"wrote {bench_lib.write_json(records, json_path)}")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
