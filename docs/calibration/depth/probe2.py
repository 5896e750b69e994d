import json, sys
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import run_cohorts
n, seed, median, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
patients = draw_cohort("mt103_211", n, seed)
for p in patients:
    p["patient.marrow_t_cell_share_of_normal"] = min(0.5, max(0.008, p["patient.marrow_t_cell_share_of_normal"] * median / 0.065))
results = run_cohorts({"mt103_211": patients}, seed, overrides=extra, workers=1)
json.dump([{"bf": p["patient.marrow_blast_fraction"], **r} for p, r in zip(patients, results)], open(out, "w"))
