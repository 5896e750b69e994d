import json, sys
import numpy as np
from scipy.stats import spearmanr
for f in sys.argv[1:]:
    d=json.load(open(f))
    bf=np.array([p['bf'] for p in d]); s=np.array([p['crs_signal_peak_cycle1'] for p in d]); g=np.array([p['max_crs_grade'] for p in d])
    thr=np.quantile(s,0.86); thr3=np.quantile(s,0.97)
    lo, hi = bf<0.5, bf>=0.5
    print(f"{f}: n={len(d)} graded any <50 {(g[lo]>0).mean():.3f} >=50 {(g[hi]>0).mean():.3f} | remapped(86th) any <50 {(s[lo]>=thr).mean():.3f} >=50 {(s[hi]>=thr).mean():.3f}; (97th) <50 {(s[lo]>=thr3).mean():.3f} >=50 {(s[hi]>=thr3).mean():.3f} | median signal <50 {np.median(s[lo]):.1f} >=50 {np.median(s[hi]):.1f} | spearman {spearmanr(bf,s)[0]:.2f}")
    for a,b in ((0.1,0.25),(0.25,0.5),(0.5,0.75),(0.75,1.0)):
        m=(bf>=a)&(bf<b); print(f"   [{a},{b}) n={m.sum()} median {np.median(s[m]):.1f} remapped {(s[m]>=thr).mean():.2f}")
