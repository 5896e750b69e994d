"""The generated reference pages are current, and every public key and output is documented."""

from __future__ import annotations

from pathlib import Path

from blinasim.docgen import outputs_markdown, parameter_rows, parameters_markdown
from tests.conftest import CONTRACT_SCALARS, CONTRACT_TIME, CONTRACT_TIME_COMPARTMENT

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_parameters_page_is_current():
    assert (DOCS / "parameters.md").read_text() == parameters_markdown(), "run: python scripts/gen_parameters.py"


def test_output_page_is_current_and_covers_the_contract():
    text = (DOCS / "output.md").read_text()
    assert text == outputs_markdown(), "run: python scripts/gen_parameters.py"
    for name in CONTRACT_TIME + CONTRACT_TIME_COMPARTMENT + CONTRACT_SCALARS:
        assert f"| `{name}` |" in text, name


def test_every_parameter_has_unit_description_and_source():
    for row in parameter_rows():
        if row["key"] == "treatment.schedule":
            continue
        assert row["unit"] and row["description"] and row["source"], row["key"]


def test_model_description_names_every_phase():
    from blinasim.core.model import PHASES

    text = (DOCS / "model.md").read_text()
    for phase in PHASES:
        assert f"`{phase.name}`" in text, phase.name
