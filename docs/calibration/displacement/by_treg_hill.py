"""Responders by Treg share and burden in two records of the same cohort (base vs candidate)."""
import json, sys
import numpy as np
from blinasim.trials.cohort import draw_cohort
seed = int(sys.argv[1]); base, cand = (json.load(open(p)) for p in sys.argv[2:4])
pats = draw_cohort("mt103_211", len(base), seed)
treg = np.array([p["patient.treg_fraction_of_cd4"] for p in pats])
bf = np.array([r["bf"] for r in base])
assert np.allclose(bf, [r["bf"] for r in cand])
cut = 0.08525
for name, m in (("Treg < 8.525% of CD4", treg < cut), ("Treg >= 8.525%", treg >= cut)):
    for gname, g in (("< 50%", bf < 0.5), (">= 50%", bf >= 0.5)):
        sel = m & g
        b = sum(base[i]["cr_crh"] for i in np.flatnonzero(sel)); c = sum(cand[i]["cr_crh"] for i in np.flatnonzero(sel))
        print(f"seed {seed} {name}, blasts {gname}: n={int(sel.sum())}, CR/CRh base {int(b)} -> candidate {int(c)}")
