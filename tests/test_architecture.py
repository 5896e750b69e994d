"""The package's layering (docs/model.md, "Package layout"), enforced.

import-linter checks the contracts in ``pyproject.toml`` ([tool.importlinter]):
the layers import only downwards, and no package has a circle among its
modules. Its graph counts every import statement, function-local ones
included, so a deferred import cannot hide a circle; the second test asks each
deferred import to say why it is deferred.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "blinasim"

importlinter_cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extra")


def test_layers_and_no_circles():
    # lint_imports returns 0 when every contract is kept, 1 when one is broken.
    assert importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def _deferred_imports(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "blinasim" or n.startswith("blinasim.") for n in names):
                found.append((node.lineno, lines[node.lineno - 1]))
    return found


def test_every_deferred_import_of_the_package_says_why():
    unexplained = [
        f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for lineno, line in _deferred_imports(path)
        if "# lazy:" not in line
    ]
    assert not unexplained, "function-local imports without a '# lazy: <reason>' comment:\n" + "\n".join(unexplained)


def test_the_contract_fails_a_circle(tmp_path):
    """The contract is not vacuous: a package with an import circle breaks it."""
    pkg = tmp_path / "circ"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("def f():\n    from circ.sub import b  # lazy: hides a circle\n")
    (pkg / "sub" / "b.py").write_text("from circ.sub import a\n")
    cfg = tmp_path / "contracts.toml"
    cfg.write_text(
        '[tool.importlinter]\nroot_package = "circ"\n\n[[tool.importlinter.contracts]]\n'
        'name = "no circles"\ntype = "acyclic_siblings"\nancestors = ["circ.**", "circ"]\n'
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        assert importlinter_cli.lint_imports(config_filename=str(cfg), no_cache=True) == 1
    finally:
        sys.path.remove(str(tmp_path))
