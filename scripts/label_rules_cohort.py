"""Measure the label's rules on an MT103-211-like cohort: seizures, holds, restarts, stops by rule.

    python scripts/label_rules_cohort.py --n 150 --seed 7 [--workers 2]

Runs the cohort as the virtual trial does (:func:`blinasim.trials.trial.patient_config`,
run seeds ``run_seed(seed, i, 0)``) and prints the share of patients with a seizure,
with neurotoxicity grade >= 3, and the protocol events per rule (docs/validation.md,
"Seizures and the label's rules").
"""

from __future__ import annotations

import argparse
from collections import Counter

from blinasim.core.model import simulate
from blinasim.core.seeds import run_seed
from blinasim.core.worker import runner_or_pool
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import patient_config, wilson_ci


def one(job):
    """Run one patient; its seizures, grades, CR/CRh and protocol events (kind, note)."""
    index, overrides, seed = job
    ds = simulate(patient_config("mt103_211", overrides), seed=run_seed(seed, index, 0))
    notes = [(str(k), str(n).split(":")[0]) for k, n in zip(ds.event_kind.values, ds.event_note.values, strict=True)]
    return {
        "seizures": int(ds.seizures),
        "neuro": int(ds.max_neurotoxicity_grade),
        "crs": int(ds.max_crs_grade),
        "cr_crh": float(ds.cr_crh),
        "events": notes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    patients = draw_cohort("mt103_211", args.n, args.seed)
    jobs = [(i, p, args.seed) for i, p in enumerate(patients)]
    with runner_or_pool(None, args.workers) as run:
        res = list(run.map(one, jobs))
    n = len(res)

    def share(k: int, what: str) -> None:
        p, lo, hi = wilson_ci(k, n, 0.95)
        print(f"{what}: {k}/{n} = {100 * p:.1f}% (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)")

    share(sum(r["seizures"] > 0 for r in res), "patients with a seizure")
    share(sum(r["seizures"] > 1 for r in res), "patients with more than one seizure")
    share(sum(r["neuro"] >= 3 for r in res), "neurotoxicity grade >= 3")
    share(sum(r["crs"] >= 3 for r in res), "CRS grade >= 3")
    share(sum(r["cr_crh"] == 1.0 for r in res), "CR/CRh")
    per_patient = Counter()
    for r in res:
        for kind, note in set(r["events"]):
            if kind in ("hold", "discontinue", "tocilizumab", "restart"):
                per_patient[f"{kind} {note}".strip()] += 1
        per_patient["dexamethasone neurotoxicity course"] += any(
            k == "dexamethasone" and n == "neurotoxicity course" for k, n in r["events"]
        )
    print("patients with each protocol event (kind and rule):")
    for key, k in sorted(per_patient.items()):
        print(f"  {key}: {k}")
    restarts = Counter(sum(1 for k, _ in r["events"] if k == "restart") for r in res)
    print("restarts per patient:", dict(sorted(restarts.items())))


if __name__ == "__main__":
    main()
