"""The one error base class of blinasim: a bad input with its list of problems.

Every error that a user's input can cause (a config, an experiment, a store,
a sweep, a report, a benchmark option) derives from :class:`BlinasimError`.
Each carries ``problems``, one readable line per problem naming the key, the
value and what is allowed, so the command line shows them all at once
(one clear message, a non-zero exit, never a traceback) and a caller of the
Python API can list them too.

The lowest layer: it imports nothing of blinasim, and every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable


class BlinasimError(ValueError):
    """A bad input, with one readable line per problem.

    Parameters
    ----------
    problems
        One problem as a string, or several as an iterable of strings.

    Attributes
    ----------
    problems : list[str]
        The problems, in the order they were found; the message lists them one per line.

    Examples
    --------
    >>> err = BlinasimError(["patient.weight_kg = -1: must be > 2", "unknown key 'patient.age'"])
    >>> err.problems
    ['patient.weight_kg = -1: must be > 2', "unknown key 'patient.age'"]
    >>> str(BlinasimError("one problem"))
    'one problem'
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:
        # Rebuild from the list, so an error sent between processes keeps its problems one by one.
        return type(self), (self.problems,)
