"""Stage 7 of the calibration: ``blinasim calibrate toxicity`` (kept for the commands in docs/validation.md).

    python scripts/calibrate_toxicity.py --n 240 --seed 2024 --json docs/calibration/stage7.json
    python scripts/calibrate_toxicity.py --n 200 --seed 2024 --seed 2025 --seed 2026 --seed 2027 \
        --json docs/calibration/stage7/stage7_four.json

The IL-6 gain and the CRS and neurotoxicity mappings from the quantiles of the
cycle-1 peaks of one or more MT103-211-like cohorts (``--seed`` repeated: the
cohorts' peaks pooled); the procedure is
:func:`blinasim.trials.calibration.scans.calibrate_toxicity`, the options
those of ``blinasim calibrate toxicity --help``.
"""

from __future__ import annotations

import sys

from blinasim.cli import app

if __name__ == "__main__":
    app(["calibrate", "toxicity", *sys.argv[1:]], prog_name="calibrate_toxicity.py")
