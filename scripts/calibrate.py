"""Stages 1-5 of the calibration: ``blinasim calibrate search`` (kept for the commands in docs/validation.md).

    python scripts/calibrate.py --n 24 --trials 40 --seed 2024 --out calibration.json

Bayesian optimisation (optuna, ``pip install -e ".[calibration]"``) of the
uncertain parameters against every target; the procedure is
:mod:`blinasim.trials.calibration.search`, the options those of
``blinasim calibrate search --help``.
"""

from __future__ import annotations

import sys

from blinasim.cli import app

if __name__ == "__main__":
    app(["calibrate", "search", *sys.argv[1:]], prog_name="calibrate.py")
