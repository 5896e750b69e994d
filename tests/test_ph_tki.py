"""Ph+ disease and tyrosine kinase inhibitors (blinasim.clinical.tki): BCR::ABL1 inhibition of Ph+ blasts,
resistance by ABL1 T315I and prior TKI failure, dasatinib's off-target suppression of T-cells, the
ALCANTARA-like cohort and its experiment file."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from blinasim.clinical.tki import TkiExposure, assay_free_fraction, emax, ph_blast_rates
from blinasim.core.model import simulate
from blinasim.core.processes.blast_fate import fate_rates
from blinasim.core.processes.killing import lysis_probability
from blinasim.core.processes.tcell_fate import fate_rates as tcell_fate_rates
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.report import make_report
from blinasim.experiments.sweep import InProcessExecutor
from blinasim.params.schema import ConfigError, load_config
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import cohort_settings

ROOT = Path(__file__).resolve().parents[1]
SHORT = {"simulation.days": 7.0, "simulation.lattice_size": 40, "treatment.regimen": "none"}


def cfg(**overrides):
    return load_config(None, {k.replace("__", "."): v for k, v in overrides.items()})


def exposure(drug: str, mutation: str = "none", prior_failure: bool = False, ph: bool = True) -> TkiExposure:
    return TkiExposure(
        cfg(
            treatment__tki=drug,
            patient__ph_positive=ph,
            patient__abl1_mutation=mutation,
            patient__prior_tki_failure=prior_failure,
        )
    )


def total_blasts(ds) -> float:
    return float(ds.blasts.sum("compartment").values[-1])


# ------------------------------------------------------------------------------------------------ PK


@pytest.mark.parametrize("drug", ["imatinib", "dasatinib", "ponatinib"])
def test_steady_state_daily_mean_is_the_labelled_auc_over_a_day(drug):
    e = exposure(drug)
    c = load_config(None, {"treatment.tki": drug})
    d = getattr(c.tki, f"{drug}_dose_mg") * getattr(c.tki, f"{drug}_auc_per_mg") / 24.0  # ng/mL
    expected = d * 1000.0 / getattr(c.tki, f"{drug}_molecular_weight") * getattr(c.tki, f"{drug}_unbound_fraction")
    days = 90.0 + (np.arange(2400) + 0.5) / 2400
    mean = np.mean([e.unbound_nm(t) for t in days])
    assert mean == pytest.approx(expected, rel=1e-3)


def test_level_accumulates_from_the_first_dose_and_swings_with_the_half_life():
    das, pon = exposure("dasatinib"), exposure("ponatinib")
    assert das.unbound_nm(-0.01) == 0.0
    # Before any accumulation (first interval) the level is below the steady state at the same hour.
    assert das.unbound_nm(0.5) < das.unbound_nm(60.5) and pon.unbound_nm(0.5) < pon.unbound_nm(60.5)
    # Peak to trough over a day at steady state: exp(k x 24 h).
    for e, half_life in ((das, 4.0), (pon, 24.0)):
        ratio = e.unbound_nm(60.0) / e.unbound_nm(60.999999)
        assert ratio == pytest.approx(math.exp(math.log(2.0) / half_life * 24.0), rel=1e-4)


def test_no_tki_no_exposure():
    e = TkiExposure(cfg(patient__ph_positive=True))
    assert not e.active
    assert e.unbound_nm(3.0) == e.abl1_inhibition(3.0) == e.tcell_suppression(3.0) == 0.0


def test_free_fraction_in_the_assay_and_emax():
    # 96% bound in plasma: in 10% serum the drug binds a tenth as much.
    assert assay_free_fraction(0.04, 0.1) == pytest.approx(1.0 / (1.0 + 24.0 * 0.1))
    assert assay_free_fraction(0.3, 1.0) == pytest.approx(0.3)
    assert emax(0.0, 1.0, 1.0) == 0.0 and emax(2.0, 2.0, 1.0) == pytest.approx(0.5)


# ---------------------------------------------------------------------------------- BCR::ABL1 and resistance


def test_tki_inhibits_only_ph_positive_blasts():
    assert exposure("dasatinib").steady_state_mean("abl1") > 0.5
    assert exposure("dasatinib", ph=False).steady_state_mean("abl1") == 0.0


def test_t315i_escapes_dasatinib_and_imatinib_but_not_ponatinib():
    native = {d: exposure(d).steady_state_mean("abl1") for d in ("imatinib", "dasatinib", "ponatinib")}
    t315i = {d: exposure(d, "t315i").steady_state_mean("abl1") for d in ("imatinib", "dasatinib", "ponatinib")}
    assert t315i["dasatinib"] < 0.1 * native["dasatinib"]
    assert t315i["imatinib"] < 0.2 * native["imatinib"]
    assert t315i["ponatinib"] > 0.3
    assert t315i["ponatinib"] > 5 * t315i["dasatinib"]


def test_prior_tki_failure_lowers_the_inhibition():
    for drug in ("dasatinib", "ponatinib"):
        assert exposure(drug, prior_failure=True).steady_state_mean("abl1") < exposure(drug).steady_state_mean("abl1")


def test_inhibition_slows_division_and_raises_death():
    c = cfg()
    assert ph_blast_rates(c, 0.105, 0.035, 0.0) == (0.105, 0.035)
    b, d = ph_blast_rates(c, 0.105, 0.035, 0.5)
    assert b == pytest.approx(0.105 * (1 - 0.5 * c.tki.max_division_block))
    assert d == pytest.approx(0.035 + 0.5 * c.tki.max_apoptosis_per_day)
    r0, r1 = fate_rates(c, 0.0, 12.0), fate_rates(c, 0.0, 12.0, 0.5)
    assert np.all(r1.mean_cycle_hours > r0.mean_cycle_hours) and np.all(r1.p_blast_death > r0.p_blast_death)
    # Inhibition 0 gives the very same numbers as the call without it.
    rz = fate_rates(c, 0.0, 12.0, 0.0)
    assert np.array_equal(rz.mean_cycle_hours, r0.mean_cycle_hours) and np.array_equal(
        rz.p_blast_death, r0.p_blast_death
    )


def test_dasatinib_slows_ph_positive_blasts_on_the_lattice_but_not_ph_negative_ones():
    def run(**extra):
        return simulate(load_config(None, {**SHORT, **extra}), seed=11)

    ph_none = run(**{"patient.ph_positive": True})
    ph_das = run(**{"patient.ph_positive": True, "treatment.tki": "dasatinib"})
    neg_none = run()
    neg_das = run(**{"treatment.tki": "dasatinib"})
    assert total_blasts(ph_das) < 0.5 * total_blasts(ph_none)
    assert float(ph_das.abl1_inhibition.max()) > 0.5
    # Ph-negative blasts are untouched by the drug (same seed, same draws).
    assert np.array_equal(neg_das.blasts.values, neg_none.blasts.values)
    assert float(neg_das.abl1_inhibition.max()) == 0.0


def test_ph_status_alone_changes_nothing():
    """Without a TKI a Ph+ patient runs bit for bit as the same Ph-negative patient (default runs unchanged)."""
    a = simulate(load_config(None, SHORT), seed=5)
    b = simulate(load_config(None, {**SHORT, "patient.ph_positive": True}), seed=5)
    for name, var in a.data_vars.items():
        if var.dtype.kind in "fiub":
            assert np.array_equal(var.values, b[name].values, equal_nan=var.dtype.kind == "f"), name
    assert float(a.abl1_inhibition.max()) == 0.0 and float(a.tki_t_cell_suppression.max()) == 0.0


# ------------------------------------------------------------------------------------------------ T-cells


def test_dasatinib_suppresses_t_cells_more_than_ponatinib_and_imatinib_not_at_all():
    das = exposure("dasatinib", ph=False).steady_state_mean("tcell")
    pon = exposure("ponatinib", ph=False).steady_state_mean("tcell")
    ima = exposure("imatinib", ph=False).steady_state_mean("tcell")
    assert das > 2 * pon > 0 and ima < 1e-3
    # Reversible: at the dasatinib trough T-cells are nearly free, at the peak mostly blocked.
    e = exposure("dasatinib", ph=False)
    assert e.tcell_suppression(60.999) < 0.2 < 0.6 < e.tcell_suppression(60.02)


def test_suppression_lowers_lysis_and_expansion():
    c = cfg()
    assert lysis_probability(c, 0.1, 0.5) == pytest.approx(0.5 * lysis_probability(c, 0.1))
    assert lysis_probability(c, 0.1, 0.0) == lysis_probability(c, 0.1)
    args = (c, 0.5, 100, 100, 0.1, 0.0, 0.0, 0.0)
    assert tcell_fate_rates(*args, 0.4).expansion_factor == pytest.approx(
        0.6 * tcell_fate_rates(*args).expansion_factor
    )


def test_dasatinib_lowers_blinatumomab_killing():
    base = {"simulation.days": 6.0, "simulation.lattice_size": 40, "treatment.regimen": "flat"}
    none = simulate(load_config(None, base), seed=2)
    das = simulate(load_config(None, {**base, "treatment.tki": "dasatinib"}), seed=2)
    killed_none, killed_das = int(none.kills.sum()), int(das.kills.sum())
    assert killed_none > 0
    assert killed_das < 0.8 * killed_none
    assert float(das.tki_t_cell_suppression.max()) > 0.5


# ------------------------------------------------------------------------------------------------ cohort


def test_alcantara_cohort_draws():
    patients = draw_cohort("alcantara", 2000, 4)
    assert patients == draw_cohort("alcantara", 2000, 4)
    assert all(p["patient.ph_positive"] and p["patient.prior_tki_failure"] for p in patients)
    assert all(p["treatment.tki"] == "none" for p in patients)  # blinatumomab alone, as in the trial
    assert all(p["patient.marrow_blast_fraction"] >= 0.05 for p in patients)
    counts = Counter(p["patient.abl1_mutation"] for p in patients)
    assert set(counts) == {"none", "t315i"}
    p, n = 10 / 45, len(patients)
    assert abs(counts["t315i"] - p * n) < 4 * math.sqrt(n * p * (1 - p))
    config = load_config(None, {**patients[0], **cohort_settings("alcantara")})
    assert config.course.plan == "mt103_211" and config.patient.ph_positive


def test_alcantara_experiment_file_validates():
    exp = Experiment.from_toml(ROOT / "experiments" / "alcantara.toml")
    arms = {a.name: a.overrides for a in exp.plan.arms}
    assert set(arms) == {"blinatumomab", "blinatumomab_dasatinib", "blinatumomab_ponatinib"}
    assert arms["blinatumomab_dasatinib"]["treatment.tki"] == "dasatinib"
    assert arms["blinatumomab_ponatinib"]["treatment.tki"] == "ponatinib"
    assert exp.plan.n_runs == 3 * exp.plan.n_samples


TINY_ALCANTARA = """
[experiment]
name = "tiny_alcantara"
seed = 3

[base]
simulation.lattice_size = 16
simulation.days = 30.0
course.plan = "none"

[[arm]]
name = "blinatumomab"

[[arm]]
name = "dasatinib"
treatment.tki = "dasatinib"

[sampler]
method = "cohort"
cohort = "alcantara"
n = 5
"""


def test_an_alcantara_store_is_reported_by_mutation_and_its_tki_arm_named(tmp_path):
    """`make_report` on an ALCANTARA-like store: the trial rates split by each category of the drawn ABL1
    mutation (a string attribute, which a median cannot split), the TKI arm named as departing from the
    trial's treatment (blinatumomab alone), and the trial's published CR/CRh beside the trial's arm."""
    path = tmp_path / "alcantara.toml"
    path.write_text(TINY_ALCANTARA)
    store = tmp_path / "alcantara.zarr"
    assert Experiment.from_toml(path).run(store, executor=InProcessExecutor(), progress=False).ok
    drawn = [p["patient.abl1_mutation"] for p in draw_cohort("alcantara", 5, 3)]
    rep = make_report(store, tmp_path / "rep", formats=(), variables=[])
    strata = rep.strata[(rep.strata.attribute == "patient.abl1_mutation") & (rep.strata.endpoint == "crs_any")]
    for arm in ("blinatumomab", "dasatinib"):
        sub = strata[strata.arm == arm].set_index("stratum")
        assert sorted(sub.index) == [f"= {v}" for v in sorted(set(drawn))]
        assert all(sub.loc[f"= {v}", "n"] == drawn.count(v) for v in set(drawn))
    assert rep.departures == {"dasatinib": ["treatment.tki 'dasatinib' (the trial 'none')"]}
    # ALCANTARA is compared, not calibrated: its published CR/CRh (16/45) stands beside the trial's arm only.
    rates = rep.trial.set_index(["endpoint", "arm"])
    assert rates.loc[("cr_crh", "blinatumomab"), "target"] == pytest.approx(16 / 45)
    assert math.isnan(rates.loc[("cr_crh", "dasatinib"), "target"])
    assert "compared, not calibrated" in rep.to_markdown()
    # A notebook shows the trial's rates and the response depth too.
    html = rep._repr_html_()
    assert "Virtual trial &#x27;alcantara&#x27;: rates per arm" in html and "Response depth" in html


def test_unknown_tki_or_mutation_is_one_clear_message():
    with pytest.raises(ConfigError, match="treatment.tki.*'none', 'imatinib', 'dasatinib' or 'ponatinib'"):
        load_config(None, {"treatment.tki": "nilotinib"})
    with pytest.raises(ConfigError, match="patient.abl1_mutation.*'none' or 't315i'"):
        load_config(None, {"patient.abl1_mutation": "e255k"})


# ------------------------------------------------------------------------------------------------ reference


def test_reference_equals_kernels_with_a_tki():
    """Ph+ disease on dasatinib with blinatumomab: BCR::ABL1 inhibition of the blasts and the T-cell
    suppression of killing, division and cytokine release, bit for bit in the Mesa reference."""
    from tests.test_reference import assert_same_run, small_config

    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=8,
        patient__ph_positive=True,
        treatment__tki="dasatinib",
        disease__blast_birth_rate_per_day=1.0,
        tcells__activated_division_per_day=3.0,
    )
    _ref, num = assert_same_run(cfg)
    assert num.rec_abl1_inhibition.max() > 0.5 and num.rec_tki_t_cell_suppression.max() > 0.5
    assert num.rec_kills.sum() > 0 and num.rec_births[-1, 0] > 0
