"""Per-variable hashes of the 10 regression cases (docs/validation.md, "Survival after failure: the
rescue by later therapy").

    PYTHONPATH=<checkout>/src:<checkout>/tests python docs/calibration/survival/rescue/varhash.py OUT.json

Run once on a checkout before a change and once after it, then compare the two files variable by
variable (``vardiff.txt`` here is that comparison for the rescue).
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from baselines import CASES


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: varhash.py OUT.json (with PYTHONPATH=<checkout>/src:<checkout>/tests)")
    out = {}
    for case in CASES:
        ds = case.run()
        hashes = {}
        for name, var in ds.data_vars.items():
            a = np.ascontiguousarray(var.values)
            data = a.tobytes() if a.dtype != object else repr(a.tolist()).encode()
            hashes[name] = hashlib.sha256(data).hexdigest()[:16]
        out[case.name] = hashes
        print(case.name, flush=True)
    with open(argv[0], "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
