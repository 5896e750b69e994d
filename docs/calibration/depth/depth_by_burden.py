"""Response, response depth and toxicity by marrow blasts from probe records (docs/validation.md,
"Response depth as the trials count it").

    python depth_by_burden.py FILE...

Each FILE is a record of ``scripts/burden_subgroups.py`` (one dict per patient, ``bf`` the marrow
blast fraction at entry). Depth is MT103-211's MRD response among the CR/CRh responders within the
first two cycles, read from ``days_to_mrd_negative`` <= 70 (the end of cycle 2), so that records
made before the endpoint counted both assessments read the same way (on records made after, it
agrees with ``mrd_response``: 62/93 both ways on ``adopt_2024.json``). OR is the odds ratio of
CR/CRh below against at or above 50% blasts.
"""

import json
import sys


def summarise(path: str) -> str:
    d = json.load(open(path))
    lo = [p for p in d if p["bf"] < 0.5]
    hi = [p for p in d if p["bf"] >= 0.5]

    def share(group, key, at_least=1):
        return sum(p[key] >= at_least for p in group) / len(group)

    def depth(group):
        r = [p for p in group if p["cr_crh"] == 1]
        return sum(1 for p in r if p["days_to_mrd_negative"] <= 70.5), len(r)

    a, b = share(lo, "cr_crh"), share(hi, "cr_crh")
    odds = (a / (1 - a)) / (b / (1 - b))
    m, n = depth(d)
    (ml, nl), (mh, nh) = depth(lo), depth(hi)
    t2x = sum(p["t_peak_d14_21_ratio"] > 2 for p in d) / len(d)
    return (
        f"{path}: CR/CRh {share(d, 'cr_crh'):.3f} (<50% {a:.2f}, >=50% {b:.2f}; OR {odds:.2f}); "
        f"CR {share(d, 'cr'):.3f} CRh {share(d, 'crh'):.3f}; depth {m}/{n} = {m / n:.2f} "
        f"(<50% {ml}/{nl}, >=50% {mh}/{nh}); CRS {share(d, 'max_crs_grade'):.3f} / "
        f"{share(d, 'max_crs_grade', 3):.3f} (<50% {share(lo, 'max_crs_grade'):.2f}, >=50% "
        f"{share(hi, 'max_crs_grade'):.2f}); neurotoxicity {share(d, 'max_neurotoxicity_grade'):.3f} / "
        f"{share(d, 'max_neurotoxicity_grade', 3):.3f}; blood T > 2x in days 14-21 {t2x:.2f}"
    )


if __name__ == "__main__":
    for f in sys.argv[1:]:
        print(summarise(f))
