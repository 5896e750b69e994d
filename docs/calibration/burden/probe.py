import json, sys
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import rates, run_cohorts

def main(argv):
    n, seed, share = int(argv[0]), int(argv[1]), float(argv[2])
    extra = json.loads(argv[3]) if len(argv) > 3 else {}
    patients = draw_cohort("mt103_211", n, seed)
    if share > 0:
        for p in patients:
            p["patient.marrow_t_cell_share_of_normal"] = min(0.5, p["patient.marrow_t_cell_share_of_normal"] * share / 0.08)
    import os, math
    if os.environ.get("REC"):
        pm, ps, nm, ns = (float(v) for v in os.environ["REC"].split(","))
        for p in patients:
            zp = math.log(p["patient.platelets_per_nl"] / 50.0) / 0.6
            zn = math.log(p["patient.neutrophils_per_ul"] / 1000.0) / 1.0
            p["patient.platelets_recovered_per_nl"] = pm * math.exp(ps * zp)
            p["patient.neutrophils_recovered_per_ul"] = nm * math.exp(ns * zn)
    results = run_cohorts({"mt103_211": patients}, seed, overrides=extra, workers=2)
    burden = [p["patient.marrow_blast_fraction"] for p in patients]
    if len(argv) > 4:
        with open(argv[4], "w") as fh:
            json.dump([{"bf": b, **r} for b, r in zip(burden, results, strict=True)], fh)
    for lo, hi in ((0.0, 0.5), (0.5, 1.0), (0.0, 1.0)):
        group = [r for b, r in zip(burden, results, strict=True) if lo <= b < hi]
        rt = rates(group, "mt103_211")
        print(f"[{lo},{hi}) n={len(group)}", "; ".join(f"{k}={v}" for k, v in rt.items()), flush=True)

if __name__ == "__main__":
    main(sys.argv[1:])
