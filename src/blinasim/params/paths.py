"""Dotted paths into a config (``patient.t_cells_per_ul``): the one walker of the schema.

Every place that takes a dotted key (``--set``, ``load_config(overrides=...)``,
experiment arms, sampler parameters, store coordinates) classifies it with
:func:`schema_node` (on :class:`blinasim.params.schema.Config`) and reports an
unknown key with :func:`unknown_key_message`, so the messages are the same
everywhere.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of the items of a ``list[Model]`` field (``treatment.schedule``), else None."""
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0]
    return None


def schema_node(model: type[BaseModel], path: str, *, indexed: bool = False) -> tuple[str, Any]:
    """Classify a dotted path: ``("section", model)``, ``("leaf", FieldInfo)`` or ``("unknown", (where, allowed))``.

    Parameters
    ----------
    model
        The schema to walk (:class:`blinasim.params.schema.Config` for config keys).
    path
        A dotted path, e.g. ``"patient.t_cells_per_ul"``.
    indexed
        Also step into the items of a list of sections by their index, as in the location
        of a validation error (``"treatment.schedule.0.start_day"``). Overrides never do:
        for them a list is one parameter.

    Returns
    -------
    tuple[str, Any]
        For an unknown path, ``where`` is the deepest known level (``"the top level"``
        for the root) and ``allowed`` the keys allowed there (empty under a leaf: a
        parameter has no sub-keys).
    """
    parts = path.split(".")
    i = 0
    while i < len(parts):
        fields = model.model_fields
        if parts[i] not in fields:
            where = ".".join(parts[:i]) or "the top level"
            return "unknown", (where, list(fields))
        ann = fields[parts[i]].annotation
        item = _item_model(ann) if indexed else None
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
        elif item is not None and i + 1 < len(parts) and parts[i + 1].isdigit():
            model, i = item, i + 2
        elif i == len(parts) - 1:
            return "leaf", fields[parts[i]]
        else:
            return "unknown", (".".join(parts[: i + 1]), [])
    return "section", model


#: keys that were renamed: old dotted key -> new dotted key (an old key gets one message naming the new one)
RENAMED_KEYS = {
    # the 4-on/8-off cycles after cycle 5 are maintenance (the label's continued therapy, TOWER);
    # consolidation is cycles 3-5 (4 on / 2 off)
    "treatment.consolidation_days_off": "treatment.maintenance_days_off",
    "treatment.cycles_before_long_break": "treatment.cycles_before_maintenance",
}


def unknown_key_message(model: type[BaseModel], what: str, path: str, value: Any, *, indexed: bool = False) -> str:
    """``"<what>: unknown key '<path>' = <value>; allowed keys in <where>: ..."`` for an unknown dotted path.

    A key of :data:`RENAMED_KEYS` gets a message naming its new key instead.

    Every unknown key, wherever it comes from (``--set``, a config file, an experiment's
    arms, base or samples), is reported with this message. ``what`` names where the key
    came from; an empty ``what`` leaves the prefix out. ``indexed`` is passed to
    :func:`schema_node` (validation-error locations inside lists).
    """
    kind, node = schema_node(model, path, indexed=indexed)
    assert kind == "unknown", path
    where, allowed = node
    prefix = f"{what}: " if what else ""
    if path in RENAMED_KEYS:
        return f"{prefix}key '{path}' = {value!r} was renamed: use '{RENAMED_KEYS[path]}'"
    if allowed:
        return f"{prefix}unknown key '{path}' = {value!r}; allowed keys in {where}: {', '.join(allowed)}"
    return f"{prefix}unknown key '{path}' = {value!r}; '{where}' is a parameter, not a section"


def annotation_kind(ann: Any) -> tuple[str, tuple[Any, ...]]:
    """``(kind, choices)`` of a field annotation: bool, int, float, str, choice (a Literal) or other."""
    if ann is bool:
        return "bool", ()
    if ann is int:
        return "int", ()
    if ann is float:
        return "float", ()
    if ann is str:
        return "str", ()
    if typing.get_origin(ann) is Literal:
        return "choice", tuple(typing.get_args(ann))
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        # An optional parameter (``float | None``: None means "derived") is sampled as its value type.
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return annotation_kind(args[0])
    return "other", ()


def set_dotted(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``path = "a.b.c"``, creating the tables on the way."""
    node = data
    *parents, last = path.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value


def get_dotted(data: dict[str, Any], path: str) -> Any:
    """``data[a][b][c]`` for ``path = "a.b.c"`` (KeyError if absent)."""
    node: Any = data
    for p in path.split("."):
        node = node[p]
    return node
