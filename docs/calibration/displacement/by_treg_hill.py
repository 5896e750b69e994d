"""Responders by Treg share and burden in two records of the same patients (docs/calibration/displacement/README.md,
"Third candidate's result").

    python docs/calibration/displacement/by_treg_hill.py SEED BASE.json CANDIDATE.json

BASE and CANDIDATE are ``docs/calibration/crs_burden/undisplaced.py`` records of the ``mt103_211`` cohort of
seed SEED. Splits the patients at the Duell 2017 cutoff (:data:`blinasim.trials.trial.TREG_CUTOFF`) and at
50% marrow blasts, and prints each group's CR/CRh in both records.
"""

import json
import sys
from pathlib import Path

import numpy as np

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import TREG_CUTOFF

seed = int(sys.argv[1])
base, cand = (json.loads(Path(p).read_text()) for p in sys.argv[2:4])
treg = np.array([p["patient.treg_fraction_of_cd4"] for p in draw_cohort("mt103_211", len(base), seed)])
bf = np.array([r["bf"] for r in base])
if not np.allclose(bf, [r["bf"] for r in cand]):
    sys.exit("by_treg_hill.py: the two records hold different patients")
for name, low_treg in (("Treg < 8.525% of CD4", True), ("Treg >= 8.525%", False)):
    for gname, g in (("< 50%", bf < 0.5), (">= 50%", bf >= 0.5)):
        sel = np.flatnonzero(((treg < TREG_CUTOFF) == low_treg) & g)
        b = sum(base[i]["cr_crh"] for i in sel)
        c = sum(cand[i]["cr_crh"] for i in sel)
        print(f"seed {seed} {name}, blasts {gname}: n={len(sel)}, CR/CRh base {int(b)} -> candidate {int(c)}")
