"""Build helpers for the documentation site (referenced from mkdocs.yml).

- ``on_files`` (an MkDocs hook): stand-ins for pages that other issues are
  still writing. The nav and other pages link ``experiments.md`` and
  ``performance.md``; until those files exist in ``docs/``, a short generated
  page says so, so that the links resolve and ``mkdocs build --strict``
  passes. As soon as a real file lands it is used and the stand-in
  disappears. Nothing is written to ``docs/``.
- ``SphinxRoles`` (a griffe extension for mkdocstrings): the docstrings use a
  few reStructuredText habits (``:class:`X```, ``::`` before a literal block)
  that Markdown would show verbatim; they are rendered as inline code and a
  plain colon. The source files are not changed.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension
from mkdocs.structure.files import File, Files

PENDING_PAGES = {
    "experiments.md": (
        "Experiments and sweeps",
        "the experiment-config reference (arms, samplers, replicates, executors, the Zarr store "
        "and its layout) is being written with the experiments issue. Until then, `blinasim sweep --help` "
        "and the [API reference](api/experiments.md) describe it.",
    ),
    "performance.md": (
        "Performance",
        "throughput and memory of the numba core, measured with `blinasim bench` and "
        "`benchmarks/bench_core.py`, are being written up with the benchmark issue.",
    ),
}


def on_files(files: Files, config: Any) -> Files:
    for name, (title, what) in PENDING_PAGES.items():
        if files.get_file_from_path(name) is None:
            content = f'# {title}\n\n!!! note "Not written yet"\n    This page is a placeholder: {what}\n'
            files.append(File.generated(config, name, content=content))
    return files


ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const|term):`~?([^`]+)`")
LITERAL_MARKER = re.compile(r"(?<=\S)::$", flags=re.M)


class SphinxRoles(Extension):
    """Render reStructuredText roles as inline code, and ``text::`` as ``text:``."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        doc = getattr(obj, "docstring", None)
        if doc is not None and not getattr(obj, "is_alias", False):
            doc.value = LITERAL_MARKER.sub(":", ROLE.sub(r"`\1`", doc.value))
