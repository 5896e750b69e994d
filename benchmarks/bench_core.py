"""Benchmark the numba core: the command line of the harness (``harness.py`` beside this file).

Examples::

    python benchmarks/bench_core.py                                  # small, medium, large
    python benchmarks/bench_core.py --sizes small,medium,large,xlarge --profile --json results/bench.json
    python benchmarks/bench_core.py --scaling --plot docs/scaling.png --json results/scaling.json

See docs/performance.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import harness  # beside this file (the script's folder is on sys.path)
from blinasim.errors import cli_spelling
from blinasim.reference import benchmark as bm


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        default=",".join(harness.DEFAULT_SIZES),
        help=f"comma-separated sizes from {', '.join(bm.PUBLIC_SIZES)} (default: %(default)s)",
    )
    p.add_argument("--days", type=float, default=None, help="simulated days per run (default: 1; xlarge 0.5)")
    p.add_argument("--repeats", type=int, default=harness.DEFAULT_REPEATS, help="timed runs per size (%(default)s)")
    p.add_argument("--json", type=Path, default=None, help="write the records (or scaling data) as JSON here")
    p.add_argument("--no-reference", action="store_true", help="do not run the Mesa reference model")
    p.add_argument(
        "--reference-repeats",
        type=int,
        default=harness.DEFAULT_REFERENCE_REPEATS,
        help="timed runs of the (slow) reference per size (%(default)s)",
    )
    p.add_argument("--no-jit", action="store_true", help="skip the cold/cached JIT measurement")
    p.add_argument("--profile", action="store_true", help="add one run per size with per-phase timings")
    p.add_argument("--scaling", action="store_true", help="measure cost against agents and days; write a plot")
    p.add_argument("--plot", type=Path, default=Path("docs/scaling.png"), help="scaling plot path (%(default)s)")
    args = p.parse_args(argv)

    try:
        names = bm.parse_sizes(args.sizes)
        bm.check_options(args.days, args.repeats)
        if args.reference_repeats < 1:
            raise bm.BenchError([f"--reference-repeats {args.reference_repeats!r}: must be a whole number >= 1"])
    except bm.BenchError as exc:
        p.error("; ".join(exc.spelled(cli_spelling)))  # exit status 2; the problems name the options

    if args.scaling:
        data = harness.measure_scaling(repeats=args.repeats, progress=_say)
        for pt in data["by_agents"] + data["by_days"]:
            print(
                f"lattice {pt['lattice_size']:5d}  {pt['days']:4g} days  {pt['agents']:>10,} agents  "
                f"{pt['cost_seconds']:8.3f} CPU-s  {pt['ns_per_agent_update']:6.2f} ns/agent-update  "
                f"{pt['ms_per_tick']:8.3f} ms/tick"
            )
        plot = harness.plot_scaling(data, args.plot)
        fa, fd = data["agents_fit"], data["days_fit"]
        print(f"cost ~ agents^{fa['exponent']:.3f}; cost = {fd['intercept']:.3g} s + {fd['slope']:.3g} s/day")
        print(f"(R² {fd['r2']:.4f}); plot: {plot}")
        if args.json is not None:
            print(f"wrote {harness.write_json(data, args.json)}")
        return 0

    records = harness.run_benchmark(
        names,
        days=args.days,
        repeats=args.repeats,
        reference=not args.no_reference,
        reference_repeats=args.reference_repeats,
        jit=not args.no_jit,
        profile=args.profile,
        progress=_say,
    )
    print(harness.format_table(records))
    if args.profile:
        for r in records:
            shares = ", ".join(f"{k} {v:.0%}" for k, v in list(r["phase_fraction"].items())[:5])
            print(f"phases at {r['size']} ({r['agents']:,} agents): {shares}")
    if args.json is not None:
        print(f"wrote {harness.write_json(records, args.json)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
