"""Kaplan-Meier figures of the 2-year virtual trials (docs/validation.md, "Survival").

    python scripts/survival_figures.py --cache lattice200.pkl [--seed 8191] [--out docs/figures/survival_km.png]
        [--drawn-median 1e-5]

Takes the lattice runs kept by ``scripts/calibrate_survival.py --cache``,
follows every course with the adopted defaults
(:func:`blinasim.core.output.with_course`) and draws, per trial, relapse-free
and overall survival with pointwise 95% intervals, the published figure marked
on each panel; prints the values beside the targets. ``--drawn-median`` names the
cohorts' median of ``patient.sanctuary_fraction`` the cached patients were drawn
with, when it was not today's: each patient's share is then scaled to today's
median, as stage 8's scan does.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from blinasim.clinical.endpoints import kaplan_meier
from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.trials.calibration.survival import MONTH, course_config
from blinasim.trials.cohort import SANCTUARY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=8191)
    parser.add_argument("--out", type=Path, default=Path("docs/figures/survival_km.png"))
    parser.add_argument("--drawn-median", type=float, default=SANCTUARY.params["median"])
    args = parser.parse_args()
    runs = pickle.loads(args.cache.read_bytes())
    median = SANCTUARY.params["median"]
    rows: dict[str, list] = {"mt103_211": [], "blast": []}
    for run in runs:
        share = run.overrides.get("patient.sanctuary_fraction", args.drawn_median) * median / args.drawn_median
        overrides = {"patient.sanctuary_fraction": min(share, SANCTUARY.high)}
        ds = with_course(run.dataset, course_config(run, overrides), run_seed(args.seed, run.index, 0))
        rows[run.trial].append({k: float(ds[k].values) for k in ("os_days", "os_event", "rfs_days", "rfs_event")})
    panels = [
        ("mt103_211", "rfs", "MT103-211-like: RFS of CR/CRh responders", ("median", 5.9)),
        ("mt103_211", "os", "MT103-211-like: overall survival", ("median", 6.1)),
        ("blast", "rfs", "BLAST-like: relapse-free survival", ("at 18 months", 0.54)),
        ("blast", "os", "BLAST-like: overall survival", ("median", 36.5)),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharey=True, layout="constrained")
    for ax, (trial, ep, title, (kind, value)) in zip(axes.ravel(), panels, strict=True):
        data = [r for r in rows[trial] if not np.isnan(r[f"{ep}_event"])]
        curve = kaplan_meier([r[f"{ep}_days"] / MONTH for r in data], [r[f"{ep}_event"] == 1.0 for r in data])
        t = np.concatenate([[0.0], curve.times])
        ax.step(t, np.concatenate([[1.0], curve.survival]), where="post", color="C0", label=f"model (n = {len(data)})")
        ax.fill_between(
            t,
            np.concatenate([[1.0], np.nan_to_num(curve.lower, nan=0.0)]),
            np.concatenate([[1.0], np.nan_to_num(curve.upper, nan=1.0)]),
            step="post",
            color="C0",
            alpha=0.2,
            label="95% pointwise interval",
        )
        if kind == "median":
            ax.axvline(value, color="C3", ls="--", label=f"trial median {value} months")
            model = curve.median()
            print(f"{trial} {ep}: median {model:.1f} months (trial {value})")
        else:
            ax.plot([18.0], [value], "o", color="C3", label=f"trial {value:.0%} at 18 months")
            print(f"{trial} {ep}: at 18 months {curve.at(18.0):.2f} (trial {value})")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(
            "months since the start of treatment" if ep == "os" or trial == "blast" else "months since response"
        )
        ax.set_ylabel("survival [1]")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
