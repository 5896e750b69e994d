import json, sys
import numpy as np
from multiprocessing import Pool
from blinasim import simulate
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import patient_config
from blinasim.core.seeds import run_seed
N, SEED, K = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
EXTRA = json.loads(sys.argv[4])
def one(i):
    pts = draw_cohort("mt103_211", N, SEED)
    p = dict(pts[i])
    if K > 0: p["patient.marrow_t_cell_share_of_normal"] = min(0.5, p["patient.marrow_t_cell_fraction"] * K / 0.03)
    p.update(EXTRA); p["course.plan"] = "none"
    ds = simulate(patient_config("mt103_211", p), seed=run_seed(SEED, i, 0)).sel(time=slice(0, 28))
    return ds["time"].values, ds["neuro_exposure"].values, ds["crs_signal"].values
if __name__ == "__main__":
    with Pool(2) as pool:
        out = pool.map(one, range(N))
    peaks = np.array([np.nanmax(x) for _, x, _ in out])
    for q in (50, 85):
        thr = np.percentile(peaks, q)
        on = [t[np.argmax(x >= thr)] for t, x, _ in out if (x >= thr).any()]
        print(f"q{q} thr {thr:.3g}: n={len(on)} onset median {np.median(on):.2f} quartiles {np.percentile(on,25):.2f}-{np.percentile(on,75):.2f}; share before day 7: {np.mean(np.array(on)<7):.2f}")
    cp = np.array([np.nanmax(c) for _, _, c in out])
    print("crs peak day median", np.median([t[np.nanargmax(c)] for t, _, c in out]))
