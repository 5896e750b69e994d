"""Regenerate the exact regression baseline (tests/baselines.json) from the current code.

    python scripts/update_baselines.py          # rerun every case, show what changed, rewrite the file
    python scripts/update_baselines.py --check  # rerun and compare only; exit status 1 on any change

Run it only when a change of results is intended, review the table of changes it prints, and
commit the file with the change that caused it. The cases and the pinned numbers are defined in
tests/baselines.py; tests/test_baselines.py compares them (docs/testing.md, "Regression baseline").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/baselines.py holds the cases

from tests.baselines import BASELINE_FILE, changes, drift_table, load, save  # noqa: E402
from tests.baselines import compute as compute_baselines  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only, do not write; exit status 1 on a change")
    args = ap.parse_args()
    old = load() if BASELINE_FILE.exists() else {}
    start = time.process_time()
    new = compute_baselines()
    print(f"{len(new)} cases in {time.process_time() - start:.1f} s CPU")
    changed = 0
    for name in sorted(old.keys() | new.keys(), key=lambda n: (n not in new, n)):
        if name not in old or name not in new:
            changed += 1
            print(f"{name}: {'new case' if name in new else 'case removed'}")
            continue
        rows = changes(old[name], new[name])
        if rows:
            changed += 1
            print(drift_table(name, rows))
    print(f"{changed} of {len(old.keys() | new.keys())} cases changed")
    if args.check:
        return 1 if changed else 0
    save(new)
    print(f"wrote {BASELINE_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
