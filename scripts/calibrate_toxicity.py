"""Stage 7 of the calibration: ``blinasim calibrate toxicity`` (kept for the commands in docs/validation.md).

    python scripts/calibrate_toxicity.py --n 240 --seed 2024 --json docs/calibration/stage7.json

The IL-6 gain and the CRS and neurotoxicity mappings from the quantiles of an
MT103-211-like cohort's cycle-1 peaks; the procedure is
:func:`blinasim.trials.calibration.scans.calibrate_toxicity`, the options
those of ``blinasim calibrate toxicity --help``.
"""

from __future__ import annotations

import sys

from blinasim.cli import app

if __name__ == "__main__":
    app(["calibrate", "toxicity", *sys.argv[1:]], prog_name="calibrate_toxicity.py")
