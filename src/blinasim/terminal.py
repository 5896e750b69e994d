"""Tables on the terminal: how the command line draws every table it prints, in one place (rich).

On a terminal a table gets the terminal's width (a long cell folds onto a second
line, never cut off) and a little style; colour follows the usual conventions
(``NO_COLOR`` turns it off). In a pipe or a file the same table is plain text:
no ANSI codes, as wide as its content (nothing wraps, nothing is cut), so that
``grep`` and ``diff`` see one row per line. The text the API writes to files
(a report's ``summary.md``) is not changed; :func:`print_markdown` only draws
its tables for the terminal.

Used only by the command line (:mod:`blinasim.cli`); it imports nothing of blinasim.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: The look of every table: a rule under the header, no frame; in a pipe the rule is ASCII.
BOX = box.SIMPLE_HEAD
PIPE_BOX = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)
HEADER_STYLE = "bold"
TITLE_STYLE = "bold cyan"
#: Room for a table in a pipe: more than any table needs, so none wraps (each takes its natural width).
PIPE_WIDTH = 100_000

_NUMBER = re.compile(r"^[<>]?\s*[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?(x|%| s)?$")


def console(file: TextIO | None = None) -> Console:
    """A console on ``file`` (stdout by default): styled on a terminal, plain text elsewhere."""
    return Console(file=file or sys.stdout, highlight=False, emoji=False, markup=False)


def is_number(cell: str) -> bool:
    """Whether a cell reads as a number (``1.2e-3``, ``12,345``, ``< 1e-4``, ``95x``): those are right-aligned."""
    return bool(_NUMBER.match(cell.strip()))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> Table:
    """A rich table of text cells: columns of numbers right-aligned and whole, long text folded (never cut)."""
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    out = Table(
        title=title,
        title_style=TITLE_STYLE,
        title_justify="left",
        box=BOX,
        header_style=HEADER_STYLE,
        show_edge=False,
        pad_edge=False,
    )
    for i, h in enumerate(headers):
        column = [row[i] for row in cells if i < len(row) and row[i].strip()]
        numeric = bool(column) and all(is_number(c) for c in column)
        if numeric:  # a number is never broken; its column keeps room for its header
            out.add_column(str(h), justify="right", no_wrap=True, min_width=len(str(h)), overflow="fold")
        else:
            out.add_column(str(h), justify="left", overflow="fold")
    for row in cells:
        out.add_row(*row)
    return out


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None, file: TextIO | None = None
) -> None:
    """Print one table (see :func:`table`)."""
    show(table(headers, rows, title), file=file)


def show(renderable: Table | Text | str, file: TextIO | None = None) -> None:
    """Print a table or a text: at the terminal's width on a terminal; in a pipe unstyled, as wide as it needs
    (a table at its natural width, a text on one line) and without trailing blanks."""
    con = console(file)
    if con.is_terminal:
        con.print(renderable, soft_wrap=isinstance(renderable, str))
        return
    if isinstance(renderable, Table):
        renderable.box = PIPE_BOX
    wide = Console(file=io.StringIO(), width=PIPE_WIDTH, color_system=None, highlight=False, emoji=False, markup=False)
    wide.print(renderable, soft_wrap=isinstance(renderable, str))
    con.file.write("".join(line.rstrip() + "\n" for line in wide.file.getvalue().splitlines()))
    con.file.flush()


def print_blocks(blocks: Sequence[str | tuple[Sequence[str], Sequence[Sequence[object]]]], file=None) -> None:
    """Print lines of text and tables (``(headers, rows)``) in their order."""
    for block in blocks:
        if isinstance(block, str):
            show(block, file)
        else:
            print_table(*block, file=file)


# ------------------------------------------------------------------ Markdown of the API


def split_row(line: str) -> list[str]:
    """The cells of one row of a Markdown table (``| a | b \\| c |``), unescaped."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    cells, cell, i = [], [], 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\" and i + 1 < len(inner) and inner[i + 1] in "|\\":
            cell.append(inner[i + 1])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(cell).strip())
            cell = []
        else:
            cell.append(ch)
        i += 1
    cells.append("".join(cell).strip())
    return cells


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*", line.strip()))


def print_markdown(text: str, file: TextIO | None = None) -> None:
    """Print the Markdown the API writes (a report's summary): its tables drawn as tables, headings
    styled, every other line as it is. The text itself is not changed; only how the terminal shows it."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|") and i + 1 < len(lines) and _is_rule(lines[i + 1]):
            headers = split_row(line)
            j = i + 2
            rows = []
            while j < len(lines) and lines[j].startswith("|"):
                rows.append(split_row(lines[j]))
                j += 1
            print_table(headers, rows, file=file)
            i = j
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            show(Text(heading.group(2), style=TITLE_STYLE if len(heading.group(1)) > 1 else "bold underline"), file)
        else:
            show(line, file)
        i += 1


def render(draw, *args, **kwargs) -> str:
    """What ``draw(*args, file=...)`` prints in a pipe, as a string (for tests and files)."""
    buf = io.StringIO()
    draw(*args, file=buf, **kwargs)
    return buf.getvalue()
