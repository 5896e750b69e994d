"""The kernels' on-disk cache: an edit of any kernel file invalidates it; importing changes no numba setting.

Numba checks a cached function against its own file only, so a kernel that
calls (or inlines) a helper from another file would keep stale machine code
after the helper changed. :mod:`blinasim.kernels._cache` stamps every kernel's
cache with a hash of all kernel sources. Each case runs in fresh interpreters,
as a user's successive sessions would, with a private cache folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def run_python(code: str, pythonpath: list[Path], cache: Path | None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    env.pop("NUMBA_CACHE_DIR", None)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


CALL_USER = """
    import json
    import fk
    from fk import user
    value = user.apply(3)
    stats = user.apply.stats
    print(json.dumps({"value": value, "hits": sum(stats.cache_hits.values()),
                      "misses": sum(stats.cache_misses.values()), "cached": len(fk.CACHED)}))
"""


def make_package(root: Path) -> Path:
    """A two-file kernel package that uses blinasim's source-tree cache: ``user.apply`` calls ``helper.scale``."""
    pkg = root / "fk"
    pkg.mkdir(parents=True)
    (pkg / "helper.py").write_text(
        "from numba import njit\n\n\n@njit(cache=True, inline='always')\ndef scale(x):\n    return x * 2\n"
    )
    (pkg / "user.py").write_text(
        "from numba import njit\n\nfrom fk.helper import scale\n\n\n"
        "@njit(cache=True)\ndef apply(x):\n    return scale(x) + 1\n"
    )
    (pkg / "__init__.py").write_text(
        "from pathlib import Path\n\nfrom fk import helper, user\n"
        "from blinasim.kernels._cache import use_source_tree_cache\n\n"
        "CACHED = use_source_tree_cache(__name__, Path(__file__).parent)\n"
    )
    return pkg


def test_editing_a_helper_file_invalidates_the_kernels_that_use_it(tmp_path):
    pkg = make_package(tmp_path / "pkg")
    path, cache = [tmp_path / "pkg", SRC], tmp_path / "cache"

    first = run_python(CALL_USER, path, cache)
    assert first == {"value": 7, "hits": 0, "misses": 1, "cached": 2}
    again = run_python(CALL_USER, path, cache)
    assert again == {"value": 7, "hits": 1, "misses": 0, "cached": 2}  # warm start from the cache
    assert any(cache.rglob("user.apply-*.nbi"))

    helper = pkg / "helper.py"
    helper.write_text(helper.read_text().replace("x * 2", "x * 5"))  # the user file is untouched
    edited = run_python(CALL_USER, path, cache)
    assert edited == {"value": 16, "hits": 0, "misses": 1, "cached": 2}  # recompiled with the new helper
    assert run_python(CALL_USER, path, cache) == {"value": 16, "hits": 1, "misses": 0, "cached": 2}


DRAW = """
    import json
    from blinasim.kernels import rng
    value = rng.draw_uniform(7, 3, rng.MOTILITY, 11, 0)
    stats = rng.draw_uniform.stats
    print(json.dumps({"value": value, "hits": sum(stats.cache_hits.values()),
                      "misses": sum(stats.cache_misses.values()), "path": stats.cache_path}))
"""


def test_an_edit_of_any_kernel_file_invalidates_every_kernel_of_the_package(tmp_path):
    """In a copy of the package: ``layout.py`` changes, ``rng.draw_uniform`` (another file) recompiles."""
    src = tmp_path / "src"
    shutil.copytree(SRC / "blinasim", src / "blinasim", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"

    first = run_python(DRAW, [src], cache)
    assert (first["hits"], first["misses"]) == (0, 1)
    assert Path(first["path"]).is_relative_to(cache)  # NUMBA_CACHE_DIR chooses the folder
    again = run_python(DRAW, [src], cache)
    assert (again["hits"], again["misses"], again["value"]) == (1, 0, first["value"])

    layout = src / "blinasim" / "kernels" / "layout.py"
    layout.write_text(layout.read_text() + "\n# an edit\n")
    edited = run_python(DRAW, [src], cache)
    assert (edited["hits"], edited["misses"], edited["value"]) == (0, 1, first["value"])


def test_importing_blinasim_changes_no_numba_setting(tmp_path):
    out = run_python(
        """
        import json
        import numba
        from numba.core import caching

        def settings():
            return {k: repr(getattr(numba.config, k)) for k in dir(numba.config) if k.isupper()}

        before = settings()
        locators = list(caching.CompileResultCacheImpl._locator_classes)
        import blinasim, blinasim.kernels, blinasim.core.model
        from blinasim.kernels import _cache
        after = settings()
        print(json.dumps({
            "changed": sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)),
            "locators_same": list(caching.CompileResultCacheImpl._locator_classes) == locators,
            "default_cache_untouched": caching.FunctionCache._impl_class is caching.CompileResultCacheImpl,
            "cached": len(blinasim.kernels.CACHED_KERNELS),
        }))
        """,
        [SRC],
        tmp_path / "cache",
    )
    assert out["changed"] == []
    assert out["locators_same"] and out["default_cache_untouched"]
    assert out["cached"] > 10


def test_every_cached_kernel_uses_the_source_tree_cache():
    import inspect

    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    import blinasim.kernels as kernels
    from blinasim.kernels._cache import source_digest

    stamp = source_digest(Path(kernels.__file__).parent)
    found = 0
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("blinasim.kernels.") or not inspect.ismodule(module):
            continue
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == name and not isinstance(obj._cache, NullCache):
                assert getattr(obj._cache, "stamp", None) == stamp, f"{name}.{obj.py_func.__name__}"
                found += 1
    assert found == len(kernels.CACHED_KERNELS) > 10
