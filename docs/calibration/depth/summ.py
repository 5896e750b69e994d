import json, sys, numpy as np
for f in sys.argv[1:]:
    R = json.load(open(f))
    bf = np.array([r["bf"] for r in R]); cr = np.array([r["cr_crh"] for r in R]) == 1
    mrd = np.array([r["mrd_response"] for r in R]) == 1
    crs = np.array([r["max_crs_grade"] for r in R]); neu = np.array([r["max_neurotoxicity_grade"] for r in R])
    tr = np.array([r["t_peak_d14_21_ratio"] for r in R], float)
    hi = bf >= 0.5
    print(f"{f}: CR/CRh {cr.mean():.3f} (<50% {cr[~hi].mean():.2f}, >=50% {cr[hi].mean():.2f}); "
          f"MRD|CR/CRh {mrd[cr].sum()}/{cr.sum()}={mrd[cr].mean():.2f}; CRS {np.mean(crs>=1):.3f}/{np.mean(crs>=3):.3f} "
          f"(<50% {np.mean(crs[~hi]>=1):.2f}, >=50% {np.mean(crs[hi]>=1):.2f}); neuro {np.mean(neu>=1):.3f}/{np.mean(neu>=3):.3f}; "
          f"T>2x {np.nanmean(tr>2):.2f} median ratio {np.nanmedian(tr):.2f}")
