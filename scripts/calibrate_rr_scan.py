"""Stage 6 of the calibration: ``blinasim calibrate scan`` (kept for the commands in docs/validation.md).

    python scripts/calibrate_rr_scan.py --n 240 --seed 2024 --set tcells.treg_suppression_half=0.0175 ...

An MT103-211-like cohort's CR/CRh and cycle-1 CRS-signal quantiles; the
procedure is :func:`blinasim.trials.calibration.scans.rr_scan`, the options
those of ``blinasim calibrate scan --help``.
"""

from __future__ import annotations

import sys

from blinasim.cli import app

if __name__ == "__main__":
    app(["calibrate", "scan", *sys.argv[1:]], prog_name="calibrate_rr_scan.py")
