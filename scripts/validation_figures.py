"""Figures of docs/validation.md from the JSON that ``blinasim calibrate verify`` writes.

    blinasim calibrate verify --n 200 --seed 7 --json docs/virtual_trial.json
    python scripts/validation_figures.py docs/virtual_trial.json --out docs/figures

Writes ``validation_targets.png``/``.svg`` (each clinical rate with its Wilson 95% interval
beside the trial's value; the other targets as misses in study units) and, given
``--calibration`` (the JSON
of ``blinasim calibrate search``), ``calibration_cr_vs_mrd.png``/``.svg`` (each candidate's
CR/CRh against its MRD response, beside the trials' values). The survival figure
(2-year courses) is ``scripts/survival_figures.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from blinasim.trials.calibration.targets import TARGET_BY_NAME

LABELS = {
    "mt103_211.cr_crh": "CR/CRh, 2 cycles\n(MT103-211)",
    "mt103_211.crs_any": "CRS any grade\n(R/R, step-up)",
    "mt103_211.crs_grade3": "CRS grade >= 3\n(R/R, step-up)",
    "mt103_211.neurotox_any": "neurotoxicity\nany grade (R/R)",
    "mt103_211.neurotox_grade3": "neurotoxicity\ngrade >= 3 (R/R)",
    "blast.mrd_response": "complete MRD response\n(BLAST)",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json")
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument(
        "--calibration", default=None, help="a `blinasim calibrate search` JSON: plot CR/CRh against MRD response"
    )
    args = ap.parse_args()
    data = json.loads(Path(args.json).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4.4), gridspec_kw={"width_ratios": [1.4, 1]})
    keys = [k for k in LABELS if k in data["endpoints"]]
    for i, key in enumerate(keys):
        e = data["endpoints"][key]
        lo, hi = e["ci95"]
        ax.errorbar(
            i,
            e["value"],
            yerr=[[max(e["value"] - lo, 0.0)], [max(hi - e["value"], 0.0)]],
            fmt="o",
            color="C0",
            capsize=4,
        )
        ax.plot(i, e["target"], marker="_", markersize=22, color="C3", mew=2)
    ax.set_xticks(range(len(keys)), [LABELS[k] for k in keys], fontsize=8)
    ax.set_ylabel("proportion of virtual patients")
    ax.set_title(f"clinical rates (n = {data['n']} per trial): model (95% CI) vs trial (red)", fontsize=9)
    ax.set_ylim(0, 1)
    misses = data["misses"]
    names = list(misses)
    bx.barh(range(len(names)), [misses[n] for n in names], color=["C0" if abs(misses[n]) <= 2 else "C3" for n in names])
    bx.axvline(-2, color="grey", lw=0.8, ls="--")
    bx.axvline(2, color="grey", lw=0.8, ls="--")
    bx.set_yticks(range(len(names)), names, fontsize=8)
    bx.set_xlabel("miss in units of what the study resolves (|miss| <= 2 blue)")
    bx.set_title(f"all calibration targets, score {data['score']:.1f}", fontsize=9)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(out / f"validation_targets.{ext}", dpi=120)
    plt.close(fig)

    if args.calibration:
        records = json.loads(Path(args.calibration).read_text())["records"]
        fig, ax = plt.subplots(figsize=(5, 4.2))
        cr = [r["values"]["cr_crh"] for r in records]
        mrd = [r["values"]["mrd_response"] for r in records]
        ax.scatter(cr, mrd, s=18, color="C0", label=f"candidates (n = {len(records)})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.plot(
            TARGET_BY_NAME["cr_crh"].value,
            TARGET_BY_NAME["mrd_response"].value,
            marker="*",
            markersize=14,
            color="C3",
            ls="none",
            label="trials (MT103-211, BLAST)",
        )
        ax.set_xlabel("CR/CRh, MT103-211-like")
        ax.set_ylabel("complete MRD response, BLAST-like")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(out / f"calibration_cr_vs_mrd.{ext}", dpi=120)
        plt.close(fig)
    print(f"wrote figures to {out}")


if __name__ == "__main__":
    main()
