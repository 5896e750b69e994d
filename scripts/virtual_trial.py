"""Verification: ``blinasim calibrate verify`` (kept for the commands in docs/validation.md).

    python scripts/virtual_trial.py --n 200 --seed 7 [--set KEY=VALUE ...] [--json out.json]

Runs the MT103-211-like and BLAST-like virtual trials and prints each endpoint
with its Wilson 95% confidence interval next to the trial's value and whether
the trial's value lies inside the interval, then the other calibration
targets with their misses; the procedure is
:func:`blinasim.trials.calibration.verify.verify`, the options those of
``blinasim calibrate verify --help``. ``scripts/validation_figures.py`` draws
the figures of docs/validation.md from the JSON.
"""

from __future__ import annotations

import sys

from blinasim.cli import app

if __name__ == "__main__":
    app(["calibrate", "verify", *sys.argv[1:]], prog_name="virtual_trial.py")
