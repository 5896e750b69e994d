"""Build helpers for the documentation site (referenced from mkdocs.yml).

- ``SphinxRoles`` (a griffe extension for mkdocstrings): the docstrings use a
  few reStructuredText habits (``:class:`X```, ``::`` before a literal block)
  that Markdown would show verbatim; they are rendered as inline code and a
  plain colon. The source files are not changed.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const|term):`~?([^`]+)`")
LITERAL_MARKER = re.compile(r"(?<=\S)::$", flags=re.M)


class SphinxRoles(Extension):
    """Render reStructuredText roles as inline code, and ``text::`` as ``text:``."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        doc = getattr(obj, "docstring", None)
        if doc is not None and not getattr(obj, "is_alias", False):
            doc.value = LITERAL_MARKER.sub(":", ROLE.sub(r"`\1`", doc.value))
