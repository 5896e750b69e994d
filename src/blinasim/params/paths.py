"""Dotted paths into a config (``patient.t_cells_per_ul``): the one walker of the schema.

Every place that takes a dotted key (``--set``, ``load_config(overrides=...)``,
experiment arms, sampler parameters, store coordinates) classifies it with
:func:`schema_node` (on :class:`blinasim.params.schema.Config`) and reports an
unknown key with :func:`unknown_key_message`, so the messages are the same
everywhere.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import BaseModel


def schema_node(model: type[BaseModel], path: str) -> tuple[str, Any]:
    """Classify a dotted path: ``("section", model)``, ``("leaf", FieldInfo)`` or ``("unknown", (where, allowed))``.

    For an unknown path, ``where`` is the deepest known level (``"the top level"``
    for the root) and ``allowed`` the keys allowed there (empty under a leaf:
    a parameter has no sub-keys).
    """
    parts = path.split(".")
    for i, name in enumerate(parts):
        fields = model.model_fields
        if name not in fields:
            where = ".".join(parts[:i]) or "the top level"
            return "unknown", (where, list(fields))
        ann = fields[name].annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
            continue
        if i == len(parts) - 1:
            return "leaf", fields[name]
        where = ".".join(parts[: i + 1])
        return "unknown", (where, [])
    return "section", model


def unknown_key_message(model: type[BaseModel], what: str, path: str, value: Any) -> str:
    """``"<what>: unknown key '<path>' = <value>; allowed keys in <where>: ..."`` for an unknown dotted path."""
    kind, node = schema_node(model, path)
    assert kind == "unknown", path
    where, allowed = node
    if allowed:
        return f"{what}: unknown key '{path}' = {value!r}; allowed keys in {where}: {', '.join(allowed)}"
    return f"{what}: unknown key '{path}' = {value!r}; '{where}' is a parameter, not a section"


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
