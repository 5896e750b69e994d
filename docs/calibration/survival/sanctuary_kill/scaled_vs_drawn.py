"""A fresh cache's lattice runs (drawn at the default sanctuary median) followed with the sanctuary shares that
a cache drawn at another median and scaled to the default (stage 8's procedure on older caches) would give them,
against their own draws (docs/validation.md, "The sanctuary's kill and BLAST's untransplanted patients").

    python docs/calibration/survival/sanctuary_kill/scaled_vs_drawn.py CACHE.pkl SEED [DRAWN_AT]

The lattice does not depend on the sanctuary share (only the course does), so the same runs serve both.
"""

import pickle
import sys
import zlib
from dataclasses import replace

import numpy as np

from blinasim.trials.calibration.survival import follow_rows, values_from_rows
from blinasim.trials.cohort import SANCTUARY

cache, seed = sys.argv[1], int(sys.argv[2])
drawn_at = float(sys.argv[3]) if len(sys.argv) > 3 else 3e-4
runs = pickle.loads(open(cache, "rb").read())
base = SANCTUARY.params["median"]
n = {t: sum(r.trial == t for r in runs) for t in ("mt103_211", "blast")}
alt = replace(SANCTUARY, params={**SANCTUARY.params, "median": drawn_at})


def rng():
    """The stream the cohorts draw the sanctuary share from (``draw_cohort``: keyed by the attribute's name)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xC0, zlib.crc32(SANCTUARY.key.encode()))))


own = {t: SANCTUARY.draw(rng(), n[t]) for t in n}
other = {t: alt.draw(rng(), n[t]) for t in n}
for t in n:
    got = np.array([r.overrides["patient.sanctuary_fraction"] for r in runs if r.trial == t])
    assert np.array_equal(got, own[t]), t  # the cache holds the draws at the default
    scaled = np.minimum(other[t] * base / drawn_at, SANCTUARY.high)
    same = np.isclose(scaled, own[t], rtol=1e-9)
    print(
        f"{t}: {same.sum()} of {n[t]} patients keep their share; capped at 0.1: {(scaled >= SANCTUARY.high).sum()}; "
        "(one draw out of bounds shifts every later patient's draw along the stream)"
    )
index = {t: 0 for t in n}
shares = {}
for r in runs:
    shares[id(r)] = float(min(other[r.trial][index[r.trial]] * base / drawn_at, SANCTUARY.high))
    index[r.trial] += 1
for label, fn in (
    ("drawn at the default", lambda r: {}),
    (f"drawn at {drawn_at:g}, scaled", lambda r: {"patient.sanctuary_fraction": shares[id(r)]}),
):
    v = values_from_rows(follow_rows(runs, seed, fn))
    print(label + ": " + ", ".join(f"{t} {name} {x:.3g}" for (t, name), x in v.items()))
