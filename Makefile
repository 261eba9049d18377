# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SAMPLE ?= sample_projects/digits_cnn.nbproj

.PHONY: run test test-heavy lint bench clean

# (Re)install when the dependency list or the pins change.
$(STAMP): pyproject.toml .ci/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c .ci/constraints.txt -e '.[dev,executorch]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/netbuilder $(SAMPLE)

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check netbuilder tests benchmarks docs
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n auto -m "not heavy"

test-heavy: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n auto -m heavy

lint: $(STAMP)
	$(BIN)/ruff check netbuilder tests benchmarks docs
	$(BIN)/ruff format --check netbuilder tests benchmarks docs

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
