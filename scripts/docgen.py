"""Generate the reference pages (docs/parameters.md, docs/output.md) from the code.

The schema (units, bounds, descriptions) and the literature table (defaults,
sources) are the single source of docs/parameters.md; a tiny real run is the
source of docs/output.md. ``scripts/gen_parameters.py`` writes both pages and
``tests/test_docs.py`` checks that the committed pages are current.

A parameter source cites a publication by its key in square brackets
(``[Topp2015]``); on the generated page each key links to its entry on the
references page (docs/references.md), whose keys :func:`reference_keys` reads.

This is a build tool of the repository, not part of the installed package.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import blinasim
from blinasim.params.schema import Config

DOCS = Path(__file__).resolve().parents[1] / "docs"
REFERENCES_PAGE = "references.md"

#: A reference key: a capitalised name and the year (``Topp2015``), or a drug name and PI for a
#: label (prescribing information, ``BlincytoPI``). Config sections in brackets (``[chemotherapy]``) are not keys.
KEY = r"[A-Z][A-Za-z]*(?:[0-9]{4}|PI)"
#: A citation in a source or description: a key in square brackets, ``[Topp2015]``.
CITATION = re.compile(rf"\[({KEY})\]")
#: An entry on the references page: the key in bold with its anchor, ``- **Topp2015**{#Topp2015}``.
REFERENCE_ENTRY = re.compile(r"^- \*\*([^*]+)\*\*\{#([^}]+)\}", flags=re.M)

HEADER = """# Parameters

Generated from the config schema (`src/blinasim/params/schema.py`) and the literature
table (`src/blinasim/params/defaults.py`) by `python scripts/gen_parameters.py`; do
not edit by hand. Keys are dotted paths: in a TOML file `patient.t_cells_per_ul`
is `t_cells_per_ul` under `[patient]`; on the command line it is
`--set patient.t_cells_per_ul=800`. A source cites its publications by key; each
key links to its full citation on the [references page](references.md).
"model choice" marks modelling decisions, "approx." values that are
order-of-magnitude choices, not fitted results; "calibrated" marks values set
by the calibration of docs/validation.md, with the stage and the prior value.
"""


def reference_keys(text: str) -> list[str]:
    """The keys of the entries of a references page, in page order.

    Parameters
    ----------
    text
        The Markdown of the references page.

    Returns
    -------
    list[str]
        One key per entry (``- **Key**{#Key} ...``).

    Raises
    ------
    ValueError
        If an entry's key is not a valid key, or its anchor differs from its key (the parameter
        page links to the anchor).
    """
    keys = []
    for key, anchor in REFERENCE_ENTRY.findall(text):
        if not re.fullmatch(KEY, key):
            raise ValueError(f"references page: {key!r} is not a key (a name and a year, or a drug name and PI)")
        if key != anchor:
            raise ValueError(f"references page: entry {key!r} has the anchor {anchor!r}; they must be equal")
        keys.append(key)
    return keys


def link_citations(text: str) -> str:
    """Turn every ``[Key]`` of a source or description into a link to its reference entry."""
    return CITATION.sub(lambda m: f"[{m[1]}]({REFERENCES_PAGE}#{m[1]})", text)


def _bounds(field: Any) -> str:
    parts = []
    for meta in field.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sym} {value:g}" if isinstance(value, float) else f"{sym} {value}")
    return ", ".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[]" if not value else str(value)
    return str(value)


def parameter_rows() -> list[dict[str, str]]:
    """One row per config key: key, section, default, unit, bounds, description and source (as in the code)."""
    rows = []
    for section_name, section in Config.model_fields.items():
        model: type[BaseModel] = section.annotation
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra or {}
            default = field.default if field.default_factory is None else field.default_factory()
            rows.append(
                {
                    "key": f"{section_name}.{name}",
                    "section": section_name,
                    "default": _fmt(default),
                    "unit": extra.get("unit", ""),
                    "bounds": _bounds(field),
                    "description": field.description or "",
                    "source": extra.get("source", ""),
                }
            )
    return rows


def _cell(text: str) -> str:
    return link_citations(text.replace("|", "/"))


def parameters_markdown() -> str:
    """The whole parameter reference page."""
    out = [HEADER]
    current = None
    for row in parameter_rows():
        if row["section"] != current:
            current = row["section"]
            doc = (Config.model_fields[current].annotation.__doc__ or "").strip().splitlines()[0]
            out.append(f"\n## `[{current}]`\n\n{doc}\n")
            out.append("| key | default | unit | bounds | meaning | source |")
            out.append("|---|---|---|---|---|---|")
        out.append(
            f"| `{row['key']}` | {row['default']} | {row['unit']} | {row['bounds']} | "
            f"{_cell(row['description'])} | {_cell(row['source'])} |"
        )
    return "\n".join(out) + "\n"


OUTPUT_HEADER = """# Output reference

Generated by `python scripts/gen_parameters.py` from the Dataset of a real
(tiny) run; do not edit by hand. Every run returns an `xarray.Dataset` with
coordinates `time` (day), `compartment` ("marrow", "blood") and `population`
("blast", "normal_b", "t_cell", "other_marrow"). Cell counts are simulated
agents times `cells_per_agent` (a Dataset attribute), i.e. per patient.

Dataset attributes: `config` (the resolved config as JSON), `seed` (the run
seed), `root_seed`, `cells_per_agent`, `clearance_l_per_h` (this patient's
drug clearance), `body_surface_area_m2`, the versions of blinasim, numpy,
numba, mesa and xarray, `date_created` (when the run was made, ISO 8601 in
UTC), `blinasim_commit` (the git commit of the code, with `-dirty` when the
checkout had uncommitted changes; absent when unknown, e.g. an installed
release) and `events` (the protocol event log as JSON, the same as the
`event_*` variables).

With `output.snapshot_every_days` > 0 (off by default) a run also has the lattice
snapshots `lattice` and `lattice_t_cells` on `(time_snapshot, y, x)`; see
[watching the marrow](watching.md).

## Conventions

The Dataset follows the CF conventions (`Conventions = "CF-1.10"`):

- **Units** are UDUNITS strings. Numbers of cells are counts: UDUNITS has no
  unit "cells", so they have units `1` (dimensionless) and a `long_name`
  starting with "number of". Strings (`relapse_type`, `event_kind`,
  `event_note`) have no units, nor has `event_value`, whose unit is that of
  its event's kind (named in its `long_name`).
- **Coded variables** (grades, treatment status, yes/no endpoints, event
  indicators, `event_cause`) carry `flag_values` and `flag_meanings`, listed
  in the table. `relapse_type` stays a string with the values `none`,
  `cd19_positive`, `cd19_negative` and `lineage_switch`.
- **Per-interval values** carry `cell_methods`: `time: sum` for what
  happened during the record interval that ends at the record's time
  (`kills`, `normal_b_kills`, `dexamethasone_mg`, `tocilizumab_doses`) and
  `time: maximum` for the worst value over it (`crs_grade`, `crs_signal`,
  `neurotoxicity_grade`, `neuro_exposure`), with the interval
  (`simulation.record_every_hours`). Variables named `cumulative_*` are
  running totals since the start, sampled at the record's time.
- **The protocol event log** is four variables on the dimension `event`, one
  entry per event in the order they happened: `event_day`, `event_kind`
  (dexamethasone, hold, restart, discontinue, tocilizumab), `event_value`
  and `event_note`. Its length differs between runs, so an experiment store
  does not keep it (re-run a run to see its events).
- **Determinism.** The same config and seed give bit-identical variables and
  attributes, except `date_created` and `blinasim_commit`
  (`blinasim.core.output.PROVENANCE_ATTRS`), which describe when and from
  which code a run was made; the regression hashes
  (`tests/baselines.py`, `scripts/hash_runs.py`) leave them out.
"""


def _flags(var) -> str:
    if "flag_values" not in var.attrs:
        return ""
    values = [f"{v:g}" for v in var.attrs["flag_values"]]
    return ", ".join(f"{v} {m}" for v, m in zip(values, str(var.attrs["flag_meanings"]).split(), strict=True))


def outputs_markdown() -> str:
    """The output reference page, from the variables of a tiny real run."""
    ds = blinasim.simulate({"simulation": {"days": 0.25, "lattice_size": 16}})
    out = [
        OUTPUT_HEADER,
        "## Variables",
        "",
        "| variable | dims | units | meaning | flags | cell_methods |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(ds.data_vars):
        var = ds[name]
        dims = ", ".join(var.dims) if var.dims else "(scalar)"
        out.append(
            f"| `{name}` | {dims} | {var.attrs.get('units', '')} | {var.attrs.get('long_name', '')} "
            f"| {_flags(var)} | {var.attrs.get('cell_methods', '')} |"
        )
    return "\n".join(out) + "\n"
