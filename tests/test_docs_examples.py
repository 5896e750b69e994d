"""Every code example in the docs runs against the code as it is, and the site builds.

- ```python blocks of every page under docs/ run in order, in one namespace per
  page, in a scratch working directory holding a copy of experiments/ (the
  examples are written as if run from the repository root). A block right
  after a ``<!-- skip-test -->`` line is not run (use sparingly: cluster
  commands, long runs).
- A fenced block with a ``title="name"`` (e.g. ```toml title="sweep.toml")
  is written to that file in the scratch directory when the page reaches it,
  so the python blocks after it can use it, as a reader would.
- Command lines in ```bash blocks that call ``blinasim`` name an existing
  subcommand and only its options; their ``--set`` overrides are valid config
  keys and values; ``make`` targets exist.
- ``mkdocs build --strict`` succeeds (warnings, broken links and pages left
  out of the nav are errors).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_MARKER = "<!-- skip-test -->"
FENCE_OPEN = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
TITLE = re.compile(r"""title=["']([^"']+)["']""")
SHELL_LANGS = {"bash", "sh", "shell", "console"}


@dataclass
class Block:
    """One fenced code block of a docs page."""

    page: Path
    line: int  # 1-based line of the first code line
    lang: str
    title: str | None
    code: str
    skip: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fenced_blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    lines = page.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, indent = m["fence"], m["info"].strip(), len(m["indent"])
        prev = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        close = re.compile(rf"^[ ]*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        lang = info.split()[0].lstrip(".").lower() if info else ""
        title = TITLE.search(info)
        out.append(Block(page, i + 2, lang, title[1] if title else None, "\n".join(body) + "\n", prev == SKIP_MARKER))
        i = j + 1
    return out


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def pages_with(langs: set[str]) -> list[Path]:
    return [p for p in pages() if any(b.lang in langs and not b.skip for b in fenced_blocks(p))]


def _id(page: Path) -> str:
    return str(page.relative_to(DOCS))


# ------------------------------------------------------------------ python examples


@pytest.mark.parametrize("page", pages_with({"python"}), ids=_id)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "experiments", tmp_path / "experiments")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # plots, if any, never open a window
    namespace: dict = {"__name__": "__docs__"}
    for block in fenced_blocks(page):
        if block.skip:
            continue
        if block.title and block.lang != "python":
            target = tmp_path / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code)
        if block.lang != "python":
            continue
        # Pad so that line numbers in a traceback are those of the Markdown file.
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        try:
            exec(code, namespace)
        except Exception:
            pytest.fail(
                f"the example at {block.where} failed (fix the example or the code; mark it with "
                f"'{SKIP_MARKER}' only if it cannot run in the test suite):\n{traceback.format_exc()}",
                pytrace=False,
            )


# ------------------------------------------------------------------ command lines


def _commands(code: str) -> list[list[str]]:
    """Simple command lines of a shell block (comments dropped, split at ; && || |)."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        current: list[str] = []
        for tok in [*tokens, ";"]:
            if tok in (";", "&&", "||", "|"):
                if current:
                    out.append(current)
                current = []
            else:
                current.append(tok)
    return out


def _cli_commands() -> dict[str, set[str]]:
    import typer.main

    from blinasim.cli import app

    def options(cmd) -> set[str]:
        return {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")} | {"--help"}

    group = typer.main.get_command(app)
    out = {}
    for name, cmd in group.commands.items():
        out[name] = options(cmd)
        for sub, subcmd in getattr(cmd, "commands", {}).items():  # command groups: `blinasim calibrate verify`
            out[f"{name} {sub}"] = options(subcmd)
    return out


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+):", text, flags=re.M))


@pytest.mark.parametrize("page", pages_with(SHELL_LANGS), ids=_id)
def test_command_lines_name_existing_commands_and_options(page: Path) -> None:
    from blinasim.params.schema import ConfigError, load_config, parse_overrides

    commands = _cli_commands()
    targets = _make_targets()
    problems = []
    for block in fenced_blocks(page):
        if block.lang not in SHELL_LANGS or block.skip:
            continue
        for argv in _commands(block.code):
            while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", argv[0]):  # VAR=value prefixes
                argv = argv[1:]
            if not argv:
                continue
            prog = Path(argv[0]).name
            if prog == "make":
                problems += [
                    f"{block.where}: no make target {t!r}" for t in argv[1:] if "=" not in t and t not in targets
                ]
            if prog != "blinasim" or len(argv) < 2 or argv[1].startswith("-"):
                continue
            sub, args = argv[1], argv[2:]
            if args and f"{sub} {args[0]}" in commands:
                sub, args = f"{sub} {args[0]}", args[1:]
            if sub not in commands:
                problems.append(f"{block.where}: 'blinasim {sub}' is not a command (commands: {', '.join(commands)})")
                continue
            for k, arg in enumerate(args):
                if arg.startswith("--"):
                    opt = arg.split("=", 1)[0]
                    if opt not in commands[sub]:
                        problems.append(f"{block.where}: 'blinasim {sub}' has no option {opt}")
                    if opt == "--set" and k + 1 < len(args):
                        try:
                            load_config(None, parse_overrides([args[k + 1]]))
                        except ConfigError as err:
                            problems += [f"{block.where}: --set {args[k + 1]}: {p}" for p in err.problems]
    assert not problems, "\n".join(problems)


def test_block_parser_sees_markers_titles_and_languages(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\na = 1\n```\n\n<!-- skip-test -->\n\n```python\nraise SystemExit\n```\n\n"
        '```toml title="x.toml"\n[a]\nb = 1\n```\n\n- item\n\n    ```bash\n    blinasim run --out x.zarr\n    ```\n'
    )
    blocks = fenced_blocks(page)
    assert [(b.lang, b.skip, b.title) for b in blocks] == [
        ("python", False, None),
        ("python", True, None),
        ("toml", False, "x.toml"),
        ("bash", False, None),
    ]
    assert blocks[0].line == 4 and blocks[0].code == "a = 1\n"
    assert blocks[3].code.strip() == "blinasim run --out x.zarr"


# ------------------------------------------------------------------ the site


def _missing_docs_tools() -> list[str]:
    return [
        m
        for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "griffe_pydantic")
        if _absent(m)
    ]


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def test_site_builds_strict(tmp_path: Path) -> None:
    missing = _missing_docs_tools()
    if missing:
        pytest.skip(f"docs tools not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "site" / "index.html").is_file()
