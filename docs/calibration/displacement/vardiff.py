"""Hash every data variable (not the attributes) of the regression baseline's cases, one line each, so two
source trees can be compared at a change that adds a config key (which changes only the stored config):

    PYTHONPATH=TREE/src python docs/calibration/displacement/vardiff.py TREE > OUT.txt

``TREE`` is the checkout whose ``tests/baselines.py`` defines the cases.
"""

import hashlib
import sys

sys.path.insert(0, sys.argv[1] + "/tests")
from baselines import CASES  # noqa: E402  (TREE/tests/baselines.py)

for case in CASES:
    ds = case.run()
    for name in sorted(ds.data_vars):
        print(case.name, name, hashlib.sha256(ds[name].values.tobytes()).hexdigest()[:16])
