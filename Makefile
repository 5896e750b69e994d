# One command each (see README.md). Each sets up .venv first (scripts/bootstrap.sh): blinasim with every
# extra, at the exact versions of constraints.txt (the ones that reproduce the published results).
.PHONY: setup run test test-fast lint bench
VENV := .venv/bin

setup:
	@bash scripts/bootstrap.sh

run: setup
	@mkdir -p results
	@rm -rf results/default.zarr
	$(VENV)/blinasim run experiments/default.toml --out results/default.zarr

test: setup
	$(VENV)/python -m pytest

test-fast: setup
	$(VENV)/python -m pytest -m "not slow"

lint: setup
	$(VENV)/ruff check src tests benchmarks
	$(VENV)/ruff format --check src tests benchmarks

bench: setup
	$(VENV)/python benchmarks/bench_core.py
