"""Hash every data variable of the baseline cases (not the attrs): python vardiff.py > out.txt"""
import hashlib, sys
sys.path.insert(0, sys.argv[1] + "/tests")
import blinasim
from baselines import CASES
for case in CASES:
    ds = case.run() if hasattr(case, "run") else None
    if ds is None:
        break
    for name in sorted(ds.data_vars):
        print(case.name, name, hashlib.sha256(ds[name].values.tobytes()).hexdigest()[:16])
