"""The validation test's computation (tests/test_validation.py: its seed, fixtures and check), keeping
every patient (docs/calibration/depth/README.md). Run from the repository root:

    python docs/calibration/depth/validate.py MT103_211_OUT.json BLAST_OUT.json
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for tests.*

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import rates, run_cohorts
from tests.test_validation import N_PATIENTS, SEED, available_cpus, check_claims, verdict_table

if __name__ == "__main__":
    start = time.perf_counter()
    cohorts = {trial: draw_cohort(trial, N_PATIENTS, SEED) for trial in ("mt103_211", "blast")}
    results = run_cohorts(cohorts, SEED, workers=available_cpus())
    trial_rates = {trial: rates(results, trial) for trial in ("mt103_211", "blast")}
    print(f"validation, seed {SEED}, {N_PATIENTS} + {N_PATIENTS} patients, {time.perf_counter() - start:.0f} s:")
    print(verdict_table(check_claims(trial_rates)))
    burden = [p["patient.marrow_blast_fraction"] for p in cohorts["mt103_211"]]
    mt = [r for r in results if r["trial"] == "mt103_211"]
    with open(sys.argv[1], "w") as fh:
        json.dump([{"bf": b, **r} for b, r in zip(burden, mt, strict=True)], fh)
    with open(sys.argv[2], "w") as fh:
        json.dump([r for r in results if r["trial"] == "blast"], fh)
    for name, rate in trial_rates["mt103_211"].items():
        print("mt103_211", name, rate)
