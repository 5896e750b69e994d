"""Build the output ``xarray.Dataset`` of one run (the output contract, docs/output.md)."""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import xarray as xr

from blinasim.clinical import blood_counts, course, endpoints
from blinasim.core.processes import blast_scale
from blinasim.core.snapshot import snapshot_variables
from blinasim.core.state import P_BLAST, POPULATIONS
from blinasim.kernels import census as C
from blinasim.kernels.layout import KIND_NORMAL_B
from blinasim.params.schema import Config
from blinasim.version import source_commit

COMPARTMENTS = ("marrow", "blood")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


#: Numbers of cells are plain counts: UDUNITS has no unit "cells", so they carry units "1" (CF's
#: dimensionless unit) and a long_name that starts with "number of" (docs/output.md, "Conventions").
CELLS = "cells"

#: Variables without units: strings (``relapse_type``, the event log's kind and note) and the event
#: log's value, whose unit depends on the event's kind.
UNITLESS = ("relapse_type", "event_kind", "event_note", "event_value")

#: Dataset attributes that say when and from which build a run was made, not what it computed:
#: two runs of the same config and seed differ only in these (hashes and comparisons leave them out).
PROVENANCE_ATTRS = ("date_created", "blinasim_commit")

#: How values of the record interval are aggregated (CF ``cell_methods``): sums and maxima over
#: the interval that ends at the record's time.
INTERVAL_METHODS = {
    "kills": "sum",
    "normal_b_kills": "sum",
    "dexamethasone_mg": "sum",
    "tocilizumab_doses": "sum",
    "crs_grade": "maximum",
    "crs_signal": "maximum",
    "neurotoxicity_grade": "maximum",
    "neuro_exposure": "maximum",
}

_GRADES = "none grade_1 grade_2 grade_3 grade_4"
_NO_YES = "no yes"
#: CF flags of the coded variables: name -> (flag values, flag meanings).
FLAGS: dict[str, tuple[list[int], str]] = {
    "treatment_status": ([0, 1, 2, 3], "no_infusion_planned infusing withheld discontinued"),
    "crs_grade": ([0, 1, 2, 3, 4], _GRADES),
    "neurotoxicity_grade": ([0, 1, 2, 3, 4], _GRADES),
    "max_crs_grade": ([0, 1, 2, 3, 4], _GRADES),
    "max_neurotoxicity_grade": ([0, 1, 2, 3, 4], _GRADES),
    "cr_crh": ([0, 1], _NO_YES),
    "cr": ([0, 1], _NO_YES),
    "crh": ([0, 1], _NO_YES),
    "cri": ([0, 1], _NO_YES),
    "cr_crh_cri": ([0, 1], _NO_YES),
    "cr_cri": ([0, 1], _NO_YES),
    "mrd_response": ([0, 1], _NO_YES),
    "os_event": ([0, 1], "censored died"),
    "rfs_event": ([0, 1], "censored relapse_or_death"),
    "efs_event": ([0, 1], "censored event"),
    "transplanted": ([0, 1], _NO_YES),
}


def _var(data, dims, units: str, long_name: str) -> xr.Variable:
    if units == CELLS:
        units, long_name = "1", f"number of {long_name}"
    return xr.Variable(dims, data, attrs={"units": units, "long_name": long_name})


def _conventions(data_vars: dict[str, xr.Variable], record_every_hours: float | None = None) -> None:
    """CF flags on the coded variables and ``cell_methods`` on per-interval sums and maxima (in place)."""
    for name, (values, meanings) in FLAGS.items():
        if name in data_vars:
            var = data_vars[name]
            var.attrs["flag_values"] = np.asarray(values, dtype=var.dtype)
            var.attrs["flag_meanings"] = meanings
    if record_every_hours is not None:
        for name, method in INTERVAL_METHODS.items():
            if name in data_vars:
                data_vars[name].attrs["cell_methods"] = f"time: {method} (interval: {record_every_hours:g} hours)"


def provenance() -> dict[str, str]:
    """The creation date (ISO 8601, UTC) and, when known, the git commit of the code (:data:`PROVENANCE_ATTRS`)."""
    out = {"date_created": datetime.now(UTC).isoformat(timespec="seconds")}
    commit = source_commit()
    if commit:
        out["blinasim_commit"] = commit
    return out


def event_log(events: list[Any]) -> dict[str, xr.Variable]:
    """The protocol events of a run as variables on the dimension ``event`` (in the order they happened)."""
    e = ("event",)
    return {
        "event_day": xr.Variable(
            e,
            np.asarray([ev.day for ev in events], dtype=np.float64),
            {"units": "day", "long_name": "day of the protocol event"},
        ),
        "event_kind": xr.Variable(
            e,
            np.asarray([ev.kind for ev in events], dtype=object).astype(str),
            {
                "long_name": "kind of the protocol event: dexamethasone, hold, restart, discontinue, tocilizumab, "
                "seizure or anti-epileptic",
            },
        ),
        "event_value": xr.Variable(
            e,
            np.asarray([ev.value for ev in events], dtype=np.float64),
            {
                "long_name": "value of the protocol event in the unit of its kind: mg (dexamethasone), "
                "ug/day (restart), grade (hold, discontinue, tocilizumab, seizure), seizures so far "
                "(anti-epileptic)",
            },
        ),
        "event_note": xr.Variable(
            e,
            np.asarray([ev.note for ev in events], dtype=object).astype(str),
            {"long_name": "why the protocol event happened (the rule or the premedication)"},
        ),
    }


def build_dataset(model: Any) -> xr.Dataset:
    """Assemble the recorded arrays of ``model`` (a :class:`~blinasim.core.model.BlinatumomabModel`
    or the Mesa reference, which record the same arrays) into a labelled Dataset."""

    n = model.rec_index
    scale = model.cells_per_agent
    counts = model.rec_counts[:n]

    def pair(col: int) -> np.ndarray:
        return counts[:, col : col + 2].astype(np.float64) * scale

    # Blast agents carry their own weight in cells (blinasim.core.processes.blast_scale).
    weight = model.rec_blast_weight[:n]

    def blast_pair(col: int) -> np.ndarray:
        return counts[:, col : col + 2].astype(np.float64) * weight[:, None]

    event_cells = model.rec_blast_event_cells[:n]
    ev = {name: event_cells[:, i] for i, name in enumerate(blast_scale.BLAST_EVENTS)}
    blast_kills = np.diff(ev["kills"], prepend=0.0)
    births = model.rec_births[:n].astype(np.float64) * scale
    births[:, P_BLAST] = ev["births"]
    deaths = model.rec_deaths[:n].astype(np.float64) * scale
    deaths[:, P_BLAST] = ev["deaths"] + ev["kills"]

    blasts = blast_pair(C.C_BLASTS)
    normal_b = pair(C.C_NORMAL_B)
    t_cells = pair(C.C_T)
    other = counts[:, C.C_OTHER_MARROW].astype(np.float64) * scale
    nucleated = blasts[:, 0] + normal_b[:, 0] + t_cells[:, 0] + other
    mononuclear = (
        blasts[:, 0] + normal_b[:, 0] + t_cells[:, 0] + model.config.marrow.mononuclear_fraction_of_other * other
    )
    n_blasts_agents = counts[:, C.C_BLASTS] + counts[:, C.C_BLASTS + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        blast_fraction = np.where(nucleated > 0, blasts[:, 0] / nucleated, np.nan)
        mrd = np.where(mononuclear > 0, blasts[:, 0] / mononuclear, np.nan)
        pdl1_mean = np.where(n_blasts_agents > 0, model.rec_pdl1_sum[:n] / n_blasts_agents, np.nan)
    discontinued = [e for e in model.protocol.events if e.kind == "discontinue"]
    cfg = model.config
    hematopoiesis = endpoints.normal_hematopoiesis(other, cfg, scale)
    cd19_neg_marrow = counts[:, C.C_BLASTS_CD19_NEG].astype(np.float64)
    switched_marrow = counts[:, C.C_BLASTS_SWITCHED].astype(np.float64)
    marrow_blast_agents = counts[:, C.C_BLASTS].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        neg_share = np.where(marrow_blast_agents > 0, cd19_neg_marrow / marrow_blast_agents, 0.0)
        switched_share = np.where(marrow_blast_agents > 0, switched_marrow / marrow_blast_agents, 0.0)
    times = model.rec_time_days[:n]
    neutrophils, platelets = blood_counts.blood_counts(times, hematopoiesis, blast_fraction, cfg)
    ep = endpoints.evaluate(
        times,
        blast_fraction,
        mrd,
        endpoints.blood_blasts_per_ul(blasts[:, 1], cfg),
        neutrophils,
        platelets,
        neg_share,
        switched_share,
        cfg,
    )
    resp = ep.response
    tc = ("time", "compartment")
    t = ("time",)
    data_vars = {
        "dose_rate": _var(model.rec_dose_rate[:n], t, "ug/day", "blinatumomab infusion rate actually delivered"),
        "bite_concentration": _var(model.rec_concentration[:n], t, "pg/mL", "serum blinatumomab"),
        "cycle": _var(model.rec_cycle[:n], t, "1", "blinatumomab cycle in progress (0 before the first)"),
        "blasts": _var(blasts, tc, "cells", "leukemic cells (all phenotypes), scaled to the patient"),
        "blasts_cd19_negative": _var(
            blast_pair(C.C_BLASTS_CD19_NEG),
            tc,
            "cells",
            "leukemic cells without CD19 (CD19-negative or lineage-switched)",
        ),
        "blasts_lineage_switched": _var(
            blast_pair(C.C_BLASTS_SWITCHED),
            tc,
            "cells",
            "leukemic cells switched to a myeloid phenotype",
        ),
        "normal_b_cells": _var(normal_b, tc, "cells", "non-leukemic CD19+ B cells"),
        "t_cells": _var(t_cells, tc, "cells", "all T-cells"),
        "t_cells_engaged": _var(pair(C.C_T_ENGAGED), tc, "cells", "T-cells in a synapse"),
        "t_cells_exhausted": _var(pair(C.C_T_EXHAUSTED), tc, "cells", "T-cells past the exhaustion threshold"),
        "other_marrow_cells": _var(other, t, "cells", "other nucleated marrow cells (myeloid, erythroid)"),
        "marrow_blast_fraction": _var(blast_fraction, t, "1", "blasts / nucleated marrow cells"),
        "mrd": _var(mrd, t, "1", "leukemic cells / mononuclear marrow cells"),
        "kills": _var(
            blast_kills,
            t,
            "cells",
            "blasts killed during the record interval",
        ),
        "normal_b_kills": _var(
            model.rec_kills[:n, KIND_NORMAL_B].astype(np.float64) * scale,
            t,
            "cells",
            "normal B cells killed during the record interval",
        ),
        "t_cell_redistribution_drive": _var(
            model.rec_redistribution[:n], t, "1", "drug-induced T-cell redistribution drive (0-1)"
        ),
        "cumulative_births": _var(
            births,
            ("time", "population"),
            "cells",
            "births since the start (division, supply, regeneration)",
        ),
        "cumulative_deaths": _var(
            deaths,
            ("time", "population"),
            "cells",
            "deaths since the start (apoptosis, killing, displacement)",
        ),
        "il6": _var(model.rec_il6[:n], t, "pg/mL", "serum IL-6"),
        "ifng": _var(model.rec_ifng[:n], t, "pg/mL", "serum IFN-gamma"),
        "crs_grade": _var(
            model.rec_crs_grade[:n], t, "1", "CRS grade 0-4 (ASTCT, mapped from effective IL-6; max over the interval)"
        ),
        "crs_signal": _var(
            model.rec_crs_signal[:n],
            t,
            "pg/mL",
            "effective IL-6 lagged by the symptom lag, graded into CRS (max over the interval)",
        ),
        "neurotoxicity_grade": _var(
            model.rec_neuro_grade[:n],
            t,
            "1",
            "neurotoxicity grade 0-4 (mapped from cytokine exposure; max over the interval)",
        ),
        "neuro_exposure": _var(
            model.rec_neuro_exposure[:n],
            t,
            "pg/mL",
            "serum IL-6 + IFN-gamma averaged over the neurotoxicity integration time, graded into "
            "neurotoxicity (max over the interval)",
        ),
        "treatment_status": _var(
            model.rec_status[:n],
            t,
            "1",
            "0 no infusion planned, 1 infusing, 2 withheld (toxicity), 3 discontinued",
        ),
        "dexamethasone_mg": _var(model.rec_dex_mg[:n], t, "mg", "dexamethasone given during the record interval"),
        "dexamethasone_suppression": _var(
            model.rec_dex_suppression[:n], t, "1", "fractional suppression of cytokine release by dexamethasone"
        ),
        "tocilizumab_doses": _var(
            model.rec_toci_doses[:n], t, "1", "tocilizumab doses given during the record interval"
        ),
        "tocilizumab_blockade": _var(model.rec_toci_blockade[:n], t, "1", "IL-6 receptor blockade by tocilizumab"),
        "cytokine_competence": _var(
            model.rec_competence[:n], t, "1", "T-cell cytokine competence (1 naive, falls with repeated engagement)"
        ),
        "lymphoid_blasts": _var(
            model.rec_lymphoid_blasts[:n], t, "cells", "leukemic blasts in spleen and lymph nodes (extramedullary)"
        ),
        "lymphoid_engaged": _var(
            model.rec_lymphoid_engaged[:n], t, "cells", "T-cells of spleen and lymph nodes in a synapse"
        ),
        "pdl1_mean": _var(pdl1_mean, t, "1", "mean relative PD-L1 on blasts (NaN without blasts)"),
        "pd1_occupancy": _var(model.rec_pd1_occupancy[:n], t, "1", "PD-1 receptor occupancy by an anti-PD-1 antibody"),
        "treg_suppression": _var(
            model.rec_treg_suppression[:n],
            t,
            "1",
            "share of activated T-cell division and lysis suppressed by activated regulatory T-cells",
        ),
        "abl1_inhibition": _var(
            model.rec_abl1_inhibition[:n], t, "1", "BCR::ABL1 inhibition of Ph+ blasts by a tyrosine kinase inhibitor"
        ),
        "tki_t_cell_suppression": _var(
            model.rec_tki_t_cell_suppression[:n],
            t,
            "1",
            "share of T-cell killing, activated division and cytokine release lost to a TKI's off-target (LCK) effect",
        ),
        "cumulative_cd19_loss_events": _var(
            ev["cd19_losses"],
            t,
            "cells",
            "CD19-negative daughters born since the start (CD19 loss at division)",
        ),
        "cumulative_lineage_switch_events": _var(
            ev["lineage_switches"],
            t,
            "cells",
            "myeloid (lineage-switched) daughters born since the start",
        ),
        "blast_merge_cells": _var(
            model.rec_blast_rescaled_cells[:n],
            t,
            "cells",
            "net leukemic cells added by merging blast agents since the start (births - deaths + this = change)",
        ),
        "blast_weight": _var(
            weight, t, "cells", "leukemic cells represented by one blast agent (adapts to the disease level)"
        ),
        "normal_hematopoiesis": _var(
            hematopoiesis, t, "1", "other nucleated marrow cells relative to a normal marrow (drives the blood counts)"
        ),
        "neutrophils_per_ul": _var(
            neutrophils, t, "1/uL", "blood neutrophils (ANC), transit model driven by the normal marrow"
        ),
        "platelets_per_nl": _var(
            platelets, t, "1/nL", "blood platelets (10^9/L), transit model driven by the normal marrow"
        ),
        # Scalar endpoints (blinasim.clinical.endpoints): best response on the assessment days;
        # 1 yes, 0 no, NaN not assessable (the run ended before the first assessment).
        "cr_crh": _var(np.float64(resp.cr_crh), (), "1", "CR or CRh on the assessment days (1/0; NaN: not assessable)"),
        "cr": _var(np.float64(resp.cr), (), "1", "CR: blasts < 5%, neutrophils > 1000/uL, platelets > 100/nL"),
        "crh": _var(np.float64(resp.crh), (), "1", "CRh: blasts < 5%, neutrophils > 500/uL, platelets > 50/nL"),
        "cri": _var(np.float64(resp.cri), (), "1", "CRi (TOWER): blasts < 5%, one CR count reached, not CR/CRh"),
        "cr_crh_cri": _var(np.float64(resp.cr_crh_cri), (), "1", "CR, CRh or CRi on the assessment days"),
        "cr_cri": _var(np.float64(resp.cr_cri), (), "1", "CR or CRi (INO-VATE: blasts < 5%, any count recovery)"),
        "response_day": _var(np.float64(resp.day), (), "day", "first assessment day with a CR/CRh (NaN if none)"),
        "mrd_response_day": _var(
            np.float64(ep.mrd_response_day),
            (),
            "day",
            "first assessment day with a complete MRD response (NaN if none)",
        ),
        "mrd_response": _var(
            np.float64(ep.mrd_response),
            (),
            "1",
            "complete MRD response (< 1e-4) on an assessment day (1/0; NaN)",
        ),
        "max_crs_grade": _var(np.int8(model.max_crs_grade), (), "1", "maximum CRS grade over the run"),
        "max_neurotoxicity_grade": _var(
            np.int8(model.max_neuro_grade), (), "1", "maximum neurotoxicity grade over the run"
        ),
        "seizures": _var(
            np.int16(model.protocol.seizures), (), "1", "seizures over the run (neurotoxicity-driven hazard)"
        ),
        "discontinuation_day": _var(
            np.float64(discontinued[0].day if discontinued else np.nan),
            (),
            "day",
            "day treatment was permanently discontinued (NaN if never)",
        ),
        "relapse_day": _var(
            np.float64(ep.relapse_day), (), "day", "day of the first relapse after a response (NaN if none)"
        ),
        "relapse_type": xr.Variable(
            (),
            np.array(ep.relapse_type),
            {"long_name": "type of the first relapse: none, cd19_positive, cd19_negative or lineage_switch"},
        ),
        **event_log(model.protocol.events),
    }
    _conventions(data_vars, cfg.simulation.record_every_hours)
    coords = {
        "time": ("time", model.rec_time_days[:n], {"units": "day", "long_name": "time since simulation start"}),
        "compartment": ("compartment", list(COMPARTMENTS), {"long_name": "compartment"}),
        "population": ("population", list(POPULATIONS), {"long_name": "simulated population"}),
    }
    attrs = {
        "events": json.dumps([asdict(e) for e in model.protocol.events]),
        "title": "blinasim virtual patient",
        "config": cfg.to_json(),
        "seed": model.run_seed,
        "root_seed": cfg.simulation.seed,
        "cells_per_agent": scale,
        "clearance_l_per_h": model.clearance_l_per_h,
        "body_surface_area_m2": cfg.patient.body_surface_area_m2,
        "blinasim_version": _version("blinasim"),
        "numpy_version": np.__version__,
        "numba_version": _version("numba"),
        "mesa_version": _version("mesa"),
        "xarray_version": xr.__version__,
        "Conventions": "CF-1.10",
        **provenance(),
    }
    regimen = model.combination.regimen
    if regimen is not None:  # the salvage regimen given (physician's choice: drawn from the seed)
        attrs["chemotherapy_regimen"] = regimen.name
        attrs["chemosensitivity"] = regimen.sensitivity
    snapshot_vars, snapshot_coords = snapshot_variables(model)  # none unless output.snapshot_every_days > 0
    data_vars.update(snapshot_vars)
    coords.update(snapshot_coords)
    ds = xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)
    return with_course(ds, cfg, model.run_seed)


#: the variables :func:`with_course` adds
COURSE_VARIABLES = (*course.TIME_TO_EVENT, "course_mrd", "course_sanctuary_cells")


def with_course(ds: xr.Dataset, config: Any, seed: int) -> xr.Dataset:
    """``ds`` (a run's lattice part) with the clinical course and its time-to-event outputs
    (:func:`blinasim.clinical.course.follow`) added; also used to follow stored runs again
    under other course parameters (calibration)."""
    ds = ds.drop_vars([*COURSE_VARIABLES, "course_time"], errors="ignore")  # a stored run: follow it again
    fu = course.follow(course.lattice_run(ds), config, seed)
    t = ()
    ct = ("course_time",)
    flags = {
        "flag_values": np.arange(len(course.EVENT_CAUSES), dtype=np.int8),
        "flag_meanings": " ".join(course.EVENT_CAUSES),
    }
    data_vars = {
        # The clinical course over the follow-up (blinasim.clinical.course).
        "os_days": _var(np.float64(fu.os_days), t, "day", "overall survival: days to death or censoring"),
        "os_event": _var(np.int8(fu.os_event), t, "1", "1 died, 0 censored at the end of follow-up"),
        "rfs_days": _var(
            np.float64(fu.rfs_days), t, "day", "relapse-free survival from the response (NaN without response)"
        ),
        "rfs_event": _var(
            np.float64(fu.rfs_event), t, "1", "1 relapse or death after the response, 0 censored, NaN no response"
        ),
        "efs_days": _var(np.float64(fu.efs_days), t, "day", "event-free survival (no response: an event at day 0)"),
        "efs_event": _var(np.int8(fu.efs_event), t, "1", "1 induction failure, relapse or death, 0 censored"),
        "days_to_mrd_negative": _var(
            np.float64(fu.days_to_mrd_negative),
            (),
            "day",
            "first day MRD fell below course.mrd_negative_threshold (NaN if never)",
        ),
        "event_cause": xr.Variable(
            t, np.int8(fu.event_cause), attrs={"units": "1", "long_name": "cause of the first event", **flags}
        ),
        "transplanted": _var(np.int8(fu.transplanted), t, "1", "1 if an allogeneic HSCT was given"),
        "transplant_day": _var(np.float64(fu.transplant_day), t, "day", "day of the HSCT (NaN if none)"),
        "cycles_given": _var(np.int16(fu.cycles_given), t, "1", "blinatumomab cycles started"),
        "course_mrd": _var(
            fu.mrd, ct, "1", "marrow MRD over the lattice run and the follow-up (NaN after relapse or death)"
        ),
        "course_sanctuary_cells": _var(
            fu.sanctuary, ct, "cells", "leukemic cells in the extramedullary sanctuary (NaN after relapse or death)"
        ),
    }
    _conventions(data_vars)
    coords = {"course_time": ("course_time", fu.times, {"units": "day", "long_name": "time of the clinical course"})}
    if fu.death_cause == course.DEATH_TREATMENT and "cr" in ds:
        # A treatment-related death during the assessments: only those before the death count
        # (the lattice ran on as if the patient lived). A stored run followed again reads this.
        resp = endpoints.response_before_death(ds, fu.os_days, config if isinstance(config, Config) else None)
        for name in ("cr", "crh", "cri", "cr_crh", "cr_crh_cri", "cr_cri"):
            ds[name] = ds[name].copy(data=np.float64(getattr(resp, name)))
        ds["response_day"] = ds["response_day"].copy(data=np.float64(resp.day))
    return ds.assign_coords(coords).assign(data_vars)
