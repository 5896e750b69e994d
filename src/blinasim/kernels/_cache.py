"""The on-disk cache of the kernels, valid for one exact set of kernel sources.

Numba's cache (``@njit(cache=True)``) checks a compiled kernel against its own
source file only. A kernel that calls (or inlines) a helper from another file,
such as :mod:`blinasim.kernels.rng`, would keep its stale machine code after an
edit of that helper. So every kernel of the package gets a cache whose source
stamp is a hash of *every* kernel source file (and the numba version): an edit
of any kernel file invalidates every kernel's cache entry, an unchanged tree
reuses it (warm start).

Nothing process-wide is changed: no ``numba.config`` setting, no numba
default. The cache is a :class:`numba.core.caching.FunctionCache` subclass
with its own locator, given only to the dispatchers defined in the kernel
modules (:func:`use_source_tree_cache`); every other numba function in the
process keeps numba's own cache. Its directory is ``NUMBA_CACHE_DIR`` when
that is set (read, never written), else ``$XDG_CACHE_HOME/blinasim/numba``
(``~/.cache/blinasim/numba``); a temporary directory when neither is writable.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

import numba
from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator
from numba.core.dispatcher import Dispatcher


def source_digest(directory: str | os.PathLike) -> str:
    """Hash of every ``*.py`` file in ``directory`` (names and contents) and of the numba version.

    Parameters
    ----------
    directory
        The folder of the kernel modules.

    Returns
    -------
    str
        A hex SHA-256 digest; it changes when any kernel source file changes.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("*.py")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(numba.__version__.encode())
    return digest.hexdigest()


def default_cache_root() -> Path:
    """Where the kernel caches live: ``NUMBA_CACHE_DIR`` if set, else the user's cache folder."""
    configured = numba.config.CACHE_DIR  # from NUMBA_CACHE_DIR; only read here
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blinasim" / "numba"


def _fallback_cache_root() -> Path:
    user = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return Path(tempfile.gettempdir()) / f"blinasim-numba-{user}"


class _SourceTreeLocator(_CacheLocator):
    """Locates one kernel's cache files; its source stamp is the digest of the whole kernel tree.

    Subclasses made by :func:`source_tree_cache` set ``root`` and ``stamp``.
    """

    root: ClassVar[Path]
    stamp: ClassVar[str]

    def __init__(self, py_func, py_file):
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(self.root / self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return self.stamp

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if not os.path.exists(py_file):
            return None
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:  # not writable: the next locator is tried
            return None
        return self


def source_tree_cache(directory: str | os.PathLike, root: str | os.PathLike | None = None) -> type[FunctionCache]:
    """A numba cache class for the kernels in ``directory``, stamped with :func:`source_digest`.

    Parameters
    ----------
    directory
        The folder of the kernel modules (its ``*.py`` files make the stamp).
    root
        Parent folder of the cache files; default :func:`default_cache_root`.

    Returns
    -------
    type[numba.core.caching.FunctionCache]
        Instantiate with a kernel's Python function; assign as the dispatcher's cache.
    """
    stamp = source_digest(directory)
    locators = [
        type("SourceTreeLocator", (_SourceTreeLocator,), {"root": Path(root or default_cache_root()), "stamp": stamp}),
        type("SourceTreeTempLocator", (_SourceTreeLocator,), {"root": _fallback_cache_root(), "stamp": stamp}),
    ]
    impl = type("SourceTreeCacheImpl", (CompileResultCacheImpl,), {"_locator_classes": locators})
    return type("SourceTreeCache", (FunctionCache,), {"_impl_class": impl, "stamp": stamp})


def use_source_tree_cache(package: str, directory: str | os.PathLike) -> list[Dispatcher]:
    """Give every cached numba function defined in the imported modules of ``package`` the source-tree cache.

    Only dispatchers made with ``cache=True`` (whose cache is numba's
    ``FunctionCache``) and defined in a module ``package.*`` change; call it
    after those modules are imported and before any of their functions is
    compiled.

    Parameters
    ----------
    package
        Dotted name of the package, e.g. ``"blinasim.kernels"``.
    directory
        Its folder (the source files that make the stamp).

    Returns
    -------
    list[numba.core.dispatcher.Dispatcher]
        The dispatchers that now use the source-tree cache.
    """
    cache_class = source_tree_cache(directory)
    changed = []
    for name, module in sorted(sys.modules.items()):
        if not name.startswith(package + ".") or module is None:
            continue
        for obj in vars(module).values():
            if (
                isinstance(obj, Dispatcher)
                and obj.py_func.__module__ == name
                and type(obj._cache) is FunctionCache  # cache=True, not yet given ours
            ):
                obj._cache = cache_class(obj.py_func)
                changed.append(obj)
    return changed
