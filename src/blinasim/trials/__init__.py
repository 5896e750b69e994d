"""Virtual trials: cohorts matched to trial baselines, trial settings and rates, and
the calibration of the defaults against published targets."""
