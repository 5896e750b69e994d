"""The installed version of blinasim (one place; the root package and the outputs read it)."""

from __future__ import annotations

import functools
import json
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

try:
    __version__ = version("blinasim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"


def _checkout_commit(root: Path) -> str | None:
    """``git rev-parse HEAD`` of a source checkout (``-dirty`` with uncommitted changes to tracked files)."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        commit = head.stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):  # no git, a hung filesystem: no commit, never a failure
        return None


@functools.lru_cache(maxsize=1)
def source_commit() -> str | None:
    """The git commit of the running blinasim, or None when it cannot be known (never raises).

    From the source checkout the package is imported from (``src/blinasim`` of a tree whose
    ``pyproject.toml`` names blinasim; ``-dirty`` appended when tracked files are modified), else
    from the installed package's metadata (``pip install git+URL`` records the commit in
    ``direct_url.json``).
    """
    root = Path(__file__).resolve().parent.parent.parent
    try:
        is_checkout = (root / ".git").exists() and 'name = "blinasim"' in (root / "pyproject.toml").read_text()
    except OSError:
        is_checkout = False
    if is_checkout:
        commit = _checkout_commit(root)
        if commit:
            return commit
    try:
        text = distribution("blinasim").read_text("direct_url.json")
        commit = json.loads(text or "{}").get("vcs_info", {}).get("commit_id")
        return str(commit) if commit else None
    except (PackageNotFoundError, ValueError, OSError, AttributeError):
        return None
