#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install blinasim with every extra (all optional parts, tests,
# docs, benchmarks) at the exact versions of constraints.txt, which reproduce the published results.
# Idempotent: reinstalls only when pyproject.toml or constraints.txt changed. Used by the Makefile and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local candidates=()
    [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
    candidates+=(python3.13 python3.12)
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root=$(pyenv root)
        candidates+=("$root"/versions/3.13*/bin/python "$root"/versions/3.12*/bin/python)
    fi
    candidates+=("$HOME"/.pyenv/versions/3.13*/bin/python "$HOME"/.pyenv/versions/3.12*/bin/python python3)
    for py in "${candidates[@]}"; do
        if PYENV_VERSION=system command -v "$py" >/dev/null 2>&1 || [ -x "$py" ]; then
            if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
                echo "$py"
                return 0
            fi
        fi
    done
    return 1
}

stamp=.venv/.blinasim-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
py=$(find_python) || { echo "bootstrap: no Python >= 3.12 found (install one, or set PYTHON=/path/to/python3.12)" >&2; exit 1; }
echo "bootstrap: using $py ($("$py" --version))" >&2
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip >&2
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[all,test,docs,bench]" >&2
echo "$want" > "$stamp"
# Compile the kernels into the cache now (about 30-60 s on 2 cores), so that the first `make run` is warm.
echo "bootstrap: compiling the kernels (blinasim warmup)" >&2
.venv/bin/blinasim warmup >&2 || echo "bootstrap: warning: blinasim warmup failed; the first run compiles the kernels" >&2
