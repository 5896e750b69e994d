"""Config schema: defaults, sources, bounds, strictness and readable errors."""

from __future__ import annotations

import pytest

import blinasim
from blinasim.params.defaults import LITERATURE
from blinasim.params.schema import Config, ConfigError, load_config, parse_overrides


def test_defaults_validate_and_every_default_has_a_source():
    cfg = Config()
    assert cfg.simulation.dt_hours == LITERATURE["simulation.dt_hours"].value
    seen = set()
    for section_name, section in Config.model_fields.items():
        model = section.annotation
        for name, field in model.model_fields.items():
            key = f"{section_name}.{name}"
            if key == "treatment.schedule":
                continue
            assert key in LITERATURE, f"{key} has no literature entry"
            extra = field.json_schema_extra
            assert extra["unit"] and extra["source"], key
            assert field.description, key
            seen.add(key)
    assert seen == set(LITERATURE), set(LITERATURE) ^ seen


def test_default_experiment_file_is_valid():
    cfg = load_config("experiments/default.toml")
    assert cfg.treatment.regimen == "rr_step_up"
    assert cfg.treatment.cycles == 1


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        ({"patient.marrow_blast_fraction": 1.5}, ["patient.marrow_blast_fraction", "1.5", "less than or equal to 1"]),
        ({"treatment.target_dose_ug_per_day": -1.0}, ["treatment.target_dose_ug_per_day", "-1.0", "greater than"]),
        ({"simulation.days": "ten"}, ["simulation.days", "'ten'", "valid number"]),
        ({"patient.kmt2a": True}, ["unknown key 'patient.kmt2a'", "marrow_blast_fraction"]),
        ({"treatment.regimen": "weekly"}, ["treatment.regimen", "'weekly'", "rr_step_up"]),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(overrides, fragments):
    with pytest.raises(ConfigError) as err:
        load_config(None, overrides)
    text = str(err.value)
    for fragment in fragments:
        assert fragment in text


def test_unknown_key_in_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[patient]\nmarow_blast_fraction = 0.5\n")
    with pytest.raises(ConfigError, match="unknown key 'patient.marow_blast_fraction'"):
        load_config(path)


def test_unknown_section_in_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[patients]\nmarrow_blast_fraction = 0.5\n")
    with pytest.raises(ConfigError, match="unknown key 'patients'"):
        load_config(path)


def test_set_overrides_are_parsed_as_toml_literals():
    parsed = parse_overrides(["simulation.days=3", "treatment.regimen=flat", "patient.marrow_blast_fraction=1e-3"])
    assert parsed == {"simulation.days": 3, "treatment.regimen": "flat", "patient.marrow_blast_fraction": 1e-3}
    cfg = load_config(None, parsed)
    assert cfg.simulation.days == 3.0 and cfg.treatment.regimen == "flat"


def test_set_unknown_key_and_malformed_item():
    with pytest.raises(ConfigError, match="unknown key 'drug.half_life'"):
        load_config(None, {"drug.half_life": 2})
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_overrides(["simulation.days"])


def test_clocks_must_nest():
    with pytest.raises(ConfigError, match="whole multiple"):
        load_config(None, {"simulation.slow_step_hours": 0.25, "simulation.dt_hours": 0.1})


def test_custom_schedule_validation():
    ok = blinasim.validate_config(
        {"treatment": {"regimen": "custom", "schedule": [{"start_day": 0, "end_day": 3, "dose_ug_per_day": 5}]}}
    )
    assert ok.treatment.schedule[0].dose_ug_per_day == 5
    with pytest.raises(ConfigError, match="needs treatment.schedule"):
        blinasim.validate_config({"treatment": {"regimen": "custom"}})
    with pytest.raises(ConfigError, match="overlap"):
        blinasim.validate_config(
            {
                "treatment": {
                    "regimen": "custom",
                    "schedule": [
                        {"start_day": 0, "end_day": 3, "dose_ug_per_day": 5},
                        {"start_day": 2, "end_day": 4, "dose_ug_per_day": 5},
                    ],
                }
            }
        )


def test_config_round_trips_through_json():
    cfg = load_config(None, {"patient.t_cells_per_ul": 900.0})
    import json

    again = blinasim.validate_config(json.loads(cfg.to_json()))
    assert again == cfg


# ------------------------------------------------------------------ the error base


def test_error_base_carries_its_problems_from_a_string_or_a_list():
    from blinasim.errors import BlinasimError

    one = BlinasimError("simulation.days = -1: must be > 0")
    assert one.problems == ["simulation.days = -1: must be > 0"]
    assert str(one) == "simulation.days = -1: must be > 0"
    two = ConfigError(p for p in ("first problem", "second problem"))
    assert two.problems == ["first problem", "second problem"]
    assert str(two) == "first problem\nsecond problem"
    assert isinstance(two, BlinasimError) and isinstance(two, ValueError)


def test_errors_keep_their_problems_through_pickle():
    """Errors cross process boundaries (sweep workers): the list survives, not one joined string."""
    import pickle

    from blinasim.experiments.store import StoreError

    err = pickle.loads(pickle.dumps(StoreError(["a", "b"])))
    assert type(err) is StoreError and err.problems == ["a", "b"]


def test_every_error_of_the_package_derives_from_the_one_base():
    from blinasim.errors import BlinasimError
    from blinasim.experiments.experiment import ExperimentError
    from blinasim.experiments.report import ReportError
    from blinasim.experiments.store import StoreError
    from blinasim.experiments.sweep import SweepError

    for cls in (ConfigError, ExperimentError, ReportError, StoreError, SweepError):
        assert issubclass(cls, BlinasimError), cls
        assert "__init__" not in vars(cls), f"{cls.__name__} repeats the body of BlinasimError"


def test_no_module_but_errors_builds_a_list_of_problems_itself():
    """A new error class subclasses BlinasimError instead of repeating its body (``self.problems = ...``)."""
    import ast
    from pathlib import Path

    package = Path(blinasim.__file__).resolve().parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "errors.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "problems":
                    if isinstance(target.value, ast.Name) and target.value.id == "self":
                        offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert not offenders, "error classes that repeat the base's body: " + ", ".join(offenders)


# ------------------------------------------------------------- the dotted-path walker


def test_an_unknown_key_gets_one_message_from_a_file_set_and_an_experiment(tmp_path):
    """The file, overrides (``--set`` on the command line) and an experiment's arms report an unknown key
    with the same message (params/paths.unknown_key_message); only the prefix says where the key came from."""
    from blinasim.experiments.spec import flatten_config

    path = tmp_path / "c.toml"
    path.write_text("[patient]\nkmt2a = true\n")
    with pytest.raises(ConfigError) as from_file:
        load_config(path)
    with pytest.raises(ConfigError) as from_api:
        load_config(None, {"patient.kmt2a": True})
    with pytest.raises(ConfigError) as from_set:
        load_config(None, {"patient.kmt2a": True}, source="--set")
    from_arm: list[str] = []
    flatten_config({"patient": {"kmt2a": True}}, "arm 'x'", from_arm)
    (message,) = from_file.value.problems
    assert message.startswith("unknown key 'patient.kmt2a' = True; allowed keys in patient: marrow_blast_fraction")
    assert from_api.value.problems == [f"override: {message}"]
    assert from_set.value.problems == [f"--set: {message}"]
    assert from_arm == [f"arm 'x': {message}"]


def test_an_unknown_key_in_a_schedule_segment_lists_the_segment_keys(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[treatment]\nregimen = "custom"\n'
        "[[treatment.schedule]]\nstart_day = 0.0\nend_day = 3.0\ndose_ug_per_day = 5.0\nrate = 1.0\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.problems == [
        "unknown key 'treatment.schedule.0.rate' = 1.0; "
        "allowed keys in treatment.schedule.0: start_day, end_day, dose_ug_per_day, cycle"
    ]


def test_overrides_treat_a_list_as_one_parameter():
    """Only validation locations step into list items; an override of a list item is an unknown key."""
    with pytest.raises(ConfigError) as err:
        load_config(None, {"treatment.schedule.0.start_day": 1.0})
    assert err.value.problems == [
        "override: unknown key 'treatment.schedule.0.start_day' = 1.0; 'treatment.schedule' is a parameter, not a section"
    ]


# ------------------------------------------------------------- every problem in one pass (issue 17)


def test_an_unknown_key_does_not_hide_the_value_errors(tmp_path):
    """4 problems (an unknown key in the file, an unknown override, two bad values) give 4 lines in one error."""
    path = tmp_path / "c.toml"
    path.write_text("[patient]\nt_cells_per_ul = -5.0\nbogus = 3\n[simulation]\nlattice_size = 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {"nosuch.key": 1, "simulation.days": 7.0})
    problems = err.value.problems
    assert len(problems) == 4, problems
    assert problems[0].startswith("override: unknown key 'nosuch.key' = 1")
    assert any(p.startswith("patient.t_cells_per_ul = -5.0: ") for p in problems)
    assert any(p.startswith("simulation.lattice_size = 3: ") for p in problems)
    assert any(p.startswith("unknown key 'patient.bogus' = 3") for p in problems)
    # The known override was applied: its value error is reported too, next to the unknown key.
    with pytest.raises(ConfigError) as err:
        load_config(None, {"nosuch.key": 1, "simulation.days": -1.0})
    assert [p.split(":")[0] for p in err.value.problems] == ["override", "simulation.days = -1.0"]


def test_errors_of_the_python_api_do_not_mention_the_command_line():
    """Only the CLI says --set; the API names the overrides (load_config, Config.with_overrides)."""
    for call in (
        lambda: load_config(None, {"drug.half_life": 2}),
        lambda: Config().with_overrides({"drug.half_life": 2, "simulation.days": -1.0}),
    ):
        with pytest.raises(ConfigError) as err:
            call()
        assert "--set" not in str(err.value), err.value.problems
        assert "override: unknown key 'drug.half_life'" in str(err.value)
