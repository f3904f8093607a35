# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hepjax-installed

export KERAS_BACKEND := jax

.PHONY: demo test test-slow lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "installing hepjax and its dependencies into $(VENV) (about a minute)..."
	$(BIN)/python -m pip install --quiet -e ".[test,io]"
	touch $(STAMP)

install: $(STAMP)

## Pythia events -> differentiable detector -> trained model -> plots, on CPU (results/demo/)
demo: $(STAMP)
	$(BIN)/hepjax run configs/demo.yaml

## the default test suite (tests marked slow are excluded), on two pytest-xdist workers; a test file stays on one
## worker (--dist loadfile), so module fixtures and the per-worker sample cache are built once
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q -n 2 --dist loadfile

## ruff lint + format check (CI runs it before the tests)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q


## quick benchmarks of every area (installs the peers of the `bench` extra)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	mkdir -p results/bench
	for area in $$($(BIN)/python -c "from hepjax.bench import list_areas; print(' '.join(list_areas()))"); do \
	  $(BIN)/hepjax bench $$area --quick --out results/bench/$$area.json || exit 1; done

clean:
	rm -rf $(VENV) results .pytest_cache
