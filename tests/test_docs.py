"""The generated reference pages are current, every public key and output is documented, and every
source cites publications that are on the references page."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from scripts.docgen import (
    CITATION,
    KEY,
    outputs_markdown,
    parameter_rows,
    parameters_markdown,
    reference_keys,
)

from blinasim.params.defaults import LITERATURE
from blinasim.params.schema import Config
from tests.conftest import CONTRACT_SCALARS, CONTRACT_TIME, CONTRACT_TIME_COMPARTMENT

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCES = (DOCS / "references.md").read_text()

#: Sources that rest on no single publication say so with one of these openings.
UNCITED_KINDS = ("model choice", "approx.", "calibrated")
#: A citation written out instead of by key: "Topp 2015", "Topp et al. 2015", "Liu et al., eLife 2023".
BARE_CITATION = re.compile(r"\b[A-Z][A-Za-z'-]+(?: et al\.?)?,?(?: [A-Za-z]+)? (?:19|20)[0-9]{2}\b")
#: Words that point to a source without naming it on the references page, or to files outside the repository.
UNNAMED_SOURCE = re.compile(r"\blabel\b|BIOLOGY|DESIGN\.md|STYLE\.md|\.\./shared|\bissue\b", flags=re.I)
#: Generated pages and the references page itself are not scanned for prose citations.
NOT_PROSE = {"parameters.md", "output.md", "references.md"}


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


# ------------------------------------------------------------------ references


def source_problems(source: str, keys: set[str]) -> list[str]:
    """What is wrong with one parameter source, given the keys of the references page (empty: nothing).

    A source cites publications by key (``[Topp2015]``), every key on the page; it writes no
    citation out ("Topp 2015"), points to no unnamed source ("label") or file outside the
    repository; and a source that cites nothing says what it is (model choice, approx., calibrated).
    """
    problems = []
    cited = CITATION.findall(source)
    problems += [f"cites [{key}], which is not on the references page" for key in cited if key not in keys]
    rest = CITATION.sub("", source)
    problems += [f"writes out the citation {m!r}: cite it by key" for m in BARE_CITATION.findall(rest)]
    problems += [f"points to {m!r}: cite a key of the references page" for m in UNNAMED_SOURCE.findall(rest)]
    if not cited and not source.startswith(UNCITED_KINDS):
        problems.append(f"cites no key and does not start with one of {UNCITED_KINDS}")
    return problems


def _all_sources() -> dict[str, str]:
    from blinasim.trials.cohort import COHORTS

    out = {f"LITERATURE[{key!r}]": d.source for key, d in LITERATURE.items()}
    for name, spec in COHORTS.items():
        for attribute in spec.attributes:
            out[f"cohort {name}: {attribute.key}"] = attribute.source
    return out


def _schema_descriptions() -> dict[str, str]:
    out = {}
    for section_name, section in Config.model_fields.items():
        for name, field in section.annotation.model_fields.items():
            out[f"{section_name}.{name}"] = field.description or ""
    return out


def test_the_references_page_is_in_the_site_and_its_keys_are_unique():
    keys = reference_keys(REFERENCES)
    assert len(keys) >= 30, keys
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert "references.md" in (ROOT / "mkdocs.yml").read_text()


def test_every_reference_gives_a_year_and_a_doi_or_says_why_not():
    entries = [" ".join(e.split()) for e in re.split(r"^- ", REFERENCES, flags=re.M)[1:]]
    assert len(entries) == len(reference_keys(REFERENCES))
    for entry in entries:
        key = entry.split("**")[1]
        if key.endswith("PI"):
            assert "prescribing information" in entry, key
            continue
        assert re.search(rf"\({key[-4:]}\)", entry), f"{key}: no year ({key[-4:]}) in the entry"
        has_doi = re.search(r"doi:\[10\.[0-9]{4,}/\S+\]\(https://doi\.org/10\.[0-9]{4,}/\S+\)", entry)
        assert has_doi or "DOI not confirmed" in entry or "PubMed" in entry, f"{key}: no DOI and no reason"


def test_every_parameter_source_cites_keys_on_the_references_page():
    keys = set(reference_keys(REFERENCES))
    problems = [f"{where}: {p}" for where, source in _all_sources().items() for p in source_problems(source, keys)]
    assert not problems, "\n".join(problems)


def test_schema_descriptions_cite_only_keys_on_the_references_page():
    keys = set(reference_keys(REFERENCES))
    cited = {where: CITATION.findall(text) for where, text in _schema_descriptions().items()}
    assert any(cited.values()), "no description cites a key: the check would be vacuous"
    missing = [f"{where}: [{key}]" for where, found in cited.items() for key in found if key not in keys]
    assert not missing, missing


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("[Nobody2099]: a value", "[Nobody2099], which is not on the references page"),
        ("approx.: as in Topp 2015", "writes out the citation 'Topp 2015'"),
        ("approx.: as in Liu et al., eLife 2023", "writes out the citation"),
        ("BIOLOGY.md: normal CD3 550-2271/uL", "points to 'BIOLOGY'"),
        ("label: 20 mg IV", "points to 'label'"),
        ("a number someone chose", "cites no key"),
    ],
)
def test_the_source_check_fails_a_bad_source(source, fragment):
    """The check is not vacuous: each kind of bad source is named."""
    problems = source_problems(source, set(reference_keys(REFERENCES)))
    assert any(fragment in p for p in problems), problems


def test_good_sources_pass_the_check():
    keys = set(reference_keys(REFERENCES))
    assert source_problems("[Topp2015]: CR and CRh need < 5% marrow blasts", keys) == []
    assert source_problems("model choice: a reference adult", keys) == []
    assert source_problems("calibrated, docs/validation.md stage 7; prior 4.0: approx. ([Norelli2018])", keys) == []


def _fold(text: str) -> str:
    """Drop diacritics, so "Gokbuget 2018" in prose finds "Gökbuget N" on the references page."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _prose_files() -> list[Path]:
    files = [p for p in sorted(DOCS.rglob("*.md")) if p.name not in NOT_PROSE]
    return [ROOT / "README.md", *files, *sorted((ROOT / "src" / "blinasim").rglob("*.py"))]


def test_every_publication_named_in_the_docs_and_code_is_on_the_references_page():
    """A citation written in prose ("Teachey 2013", "Grimm et al. 2006") has an entry of that year that
    names the author, so a reader finds its full citation and DOI."""
    entries = {
        key: _fold(text)
        for key, text in zip(reference_keys(REFERENCES), re.split(r"^- ", REFERENCES, flags=re.M)[1:], strict=True)
    }
    missing = []
    for path in _prose_files():
        for name, year in re.findall(
            r"\b([A-Z][A-Za-z'-]+)(?: et al\.?)?,? ((?:19|20)[0-9]{2})\b", _fold(path.read_text())
        ):
            if not any(key.endswith(year) and name in text for key, text in entries.items()):
                missing.append(f"{path.relative_to(ROOT)}: {name} {year}")
    assert not missing, "cited in prose but not on docs/references.md:\n" + "\n".join(sorted(set(missing)))


def test_every_reference_is_cited():
    """No entry is left behind: each key is cited by a source or a description, or named in prose."""
    cited = set()
    for text in [*_all_sources().values(), *_schema_descriptions().values()]:
        cited |= set(CITATION.findall(text))
    prose = _fold(" ".join(p.read_text() for p in _prose_files()))
    for key in reference_keys(REFERENCES):
        if key in cited:
            continue
        author = re.fullmatch(r"([A-Z][A-Za-z]*?)([0-9]{4})", key)
        assert author and re.search(rf"\b{author[1]}\b[\s\S]{{0,40}}\b{author[2]}\b", prose, flags=re.I), (
            f"{key} is on the references page but cited nowhere"
        )


def test_key_pattern_rejects_config_sections():
    assert re.fullmatch(KEY, "Topp2015") and re.fullmatch(KEY, "BlincytoPI")
    assert not re.fullmatch(KEY, "chemotherapy") and not CITATION.search("courses ([chemotherapy])")
