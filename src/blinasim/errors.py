"""The one error base class of blinasim: a bad input with its list of problems.

Every error that a user's input can cause (a config, an experiment, a store,
a sweep, a report, a benchmark option) derives from :class:`BlinasimError`.
Each carries ``problems``, one readable line per problem naming the key, the
value and what is allowed, so the command line shows them all at once
(one clear message, a non-zero exit, never a traceback) and a caller of the
Python API can list them too.

A problem that names an argument of the call (``resume=True``, ``out``) marks
it with :func:`arg`: the Python API spells it as the keyword argument, the
command line as its option (``--resume``, ``--out``), so an error raised from
Python never tells its caller to fix a command-line flag, and the command line
never shows Python keywords (:meth:`BlinasimError.spelled`).

The lowest layer: it imports nothing of blinasim, and every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

# An argument inside a problem: NAME, then a kind (n: no value, t/f: a flag on/off, v: a value), then the value.
_ARG = re.compile("\ue000([A-Za-z_][A-Za-z0-9_]*)\ue001([ntfv])([^\ue002]*)\ue002")

#: How an argument reads: ``spell(name, value)`` with ``value`` None (the argument itself), True/False
#: (a flag given or not) or the value's text.
Speller = Callable[[str, "bool | str | None"], str]


def arg(name: str, value: bool | str | None = None) -> str:
    """An argument of the call, named in a problem; each reader sees it in their own spelling.

    Parameters
    ----------
    name
        The keyword argument of the Python function (``resume``, ``out``, ``allow_incomplete``).
    value
        None names the argument itself; True/False a flag given or not; a string the value to pass.

    Examples
    --------
    >>> err = BlinasimError(f"store 's.zarr' exists; pass {arg('resume', True)} to continue it")
    >>> err.problems
    ["store 's.zarr' exists; pass resume=True to continue it"]
    >>> err.spelled(cli_spelling)
    ["store 's.zarr' exists; pass --resume to continue it"]
    >>> BlinasimError(f"{arg('scheduler', repr('x'))}: not an address").spelled(cli_spelling)
    ["--scheduler 'x': not an address"]
    """
    kind = "n" if value is None else ("t" if value else "f") if isinstance(value, bool) else "v"
    return f"\ue000{name}\ue001{kind}{value if kind == 'v' else ''}\ue002"


def python_spelling(name: str, value: bool | str | None) -> str:
    """An argument as a Python caller writes it: ``name``, ``name=True``, ``name=VALUE``."""
    return name if value is None else f"{name}={value}"


def cli_spelling(name: str, value: bool | str | None, options: Mapping[str, str] | None = None) -> str:
    """An argument as its command-line option: ``--name``, ``--no-name`` (False), ``--name VALUE``.

    ``options`` maps an argument to an option of another name (``{"path": "--out"}``); the default
    option of ``dask_local`` is ``--dask-local``.
    """
    option = (options or {}).get(name) or "--" + name.replace("_", "-")
    if value is True or value is None:
        return option
    if value is False:
        return "--no-" + option.removeprefix("--")
    return f"{option} {value}"


def spell(text: str, speller: Speller = python_spelling) -> str:
    """``text`` with every :func:`arg` in it written by ``speller``."""

    def one(m: re.Match) -> str:
        kind, value = m.group(2), m.group(3)
        return speller(m.group(1), {"n": None, "t": True, "f": False}.get(kind, value))

    return _ARG.sub(one, text)


class BlinasimError(ValueError):
    """A bad input, with one readable line per problem.

    Parameters
    ----------
    problems
        One problem as a string, or several as an iterable of strings; an argument of the call
        inside one is marked with :func:`arg`.

    Attributes
    ----------
    problems : list[str]
        The problems, in the order they were found, arguments spelt as Python keywords; the message
        lists them one per line.

    Examples
    --------
    >>> err = BlinasimError(["patient.weight_kg = -1: must be > 2", "unknown key 'patient.age'"])
    >>> err.problems
    ['patient.weight_kg = -1: must be > 2', "unknown key 'patient.age'"]
    >>> str(BlinasimError("one problem"))
    'one problem'
    """

    def __init__(self, problems: str | Iterable[str]):
        self.marked: list[str] = [problems] if isinstance(problems, str) else [str(p) for p in problems]
        self.problems: list[str] = [spell(p) for p in self.marked]
        super().__init__("\n".join(self.problems))

    def spelled(self, speller: Speller) -> list[str]:
        """The problems with their arguments written by ``speller`` (e.g. :func:`cli_spelling`)."""
        return [spell(p, speller) for p in self.marked]

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:
        # Rebuild from the marked list, so an error sent between processes keeps its problems one by one.
        return type(self), (self.marked,)
