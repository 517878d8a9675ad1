# optfactors: `make sweep` and `make test` are all a fresh clone needs (they install first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The studies are what experiments/*.yaml declare under `study:` (optfactors.manifest, asked when needed).
MANIFEST = $(BIN)/python -m optfactors.manifest
# The headline batch-size study (manifests with `headline: true`) unless EXP is given.
EXP ?= $(shell $(MANIFEST) --headline 2>/dev/null | tr '\n' ' ')
PROFILE ?= quick
# The quick profile's outputs are the committed results/; the paper profile's go to results/paper/.
RESULTS ?= results$(if $(filter paper,$(PROFILE)),/paper,)
# Real data: $DATA_DIR if set, else ../shared/data when it is there, else ./data (downloaded on first use).
DATA_DIR ?= $(if $(wildcard ../shared/data/mnist.npz),$(abspath ../shared/data),$(CURDIR)/data)
export DATA_DIR
PYTEST_ARGS ?=
# Test processes (pytest-xdist): most of a test's time is single-threaded Python (imports, Hydra, pandas), so
# one process per core with one torch thread each is ~1.6x faster than one process with every core.
TEST_WORKERS ?= auto

.PHONY: help install test test-all lint sweep reproduce collect figures report publish dashboard bench verify new-study lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  variables: EXP=$(EXP) PROFILE=$(PROFILE) DATA_DIR=$(DATA_DIR)"

install: $(STAMP) ## create .venv and install the package with its dev tools (no-op when up to date)

# The exact versions of requirements.lock first (what the committed results were checked with), then the
# package itself without resolving anything again.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e '.[dev]'
	touch $@

lock: install ## rewrite requirements.lock from the current .venv (after changing pyproject.toml's dependencies)
	{ sed -n '/^#/p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^#'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

test: install ## run the fast test suite (real data from DATA_DIR), one process per core, then ruff
	OMP_NUM_THREADS=1 OPTFACTORS_PROGRESS_BAR=false $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	$(BIN)/ruff check src tests

test-all: install ## the whole suite, slow tests included
	OMP_NUM_THREADS=1 OPTFACTORS_PROGRESS_BAR=false $(BIN)/pytest -n $(TEST_WORKERS) -m '' $(PYTEST_ARGS)

lint: install ## ruff
	$(BIN)/ruff check src tests

# Each sweep's wall time is appended to $(RESULTS)/bench/sweep_times.csv (a sweep resumed after a stop adds a
# second line: a study's time is the sum of its lines at one commit).
TIMES = $(RESULTS)/bench/sweep_times.csv
sweep: install ## run the experiments EXP (default: the batch-size study) at PROFILE, then collect, draw, report
	@status=0; mkdir -p $(dir $(TIMES)); \
	test -s $(TIMES) || echo "experiment,profile,git_commit,finished_at,wall_time_s,exit_status" > $(TIMES); \
	for exp in $(EXP); do start=$$(date +%s); code=0; \
	  $(BIN)/optfactors run -m experiment=$$exp profile=$(PROFILE) paths.results=$(RESULTS) || code=$$?; \
	  [ $$code = 0 ] || status=1; \
	  echo "$$exp,$(PROFILE),$$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- . ':(exclude)results' || echo -dirty),$$(date -u +%FT%TZ),$$(( $$(date +%s) - start )),$$code" >> $(TIMES); \
	done; $(MAKE) --no-print-directory collect figures report && exit $$status

reproduce: install ## every study in experiments/ (not the searches) at PROFILE (quick|paper), then figures and report
	$(MAKE) --no-print-directory sweep EXP="$$($(MANIFEST) --kind study --kind budget | tr '\n' ' ')" PROFILE=$(PROFILE)

verify: install ## rerun the short quick profiles into scratch/verify; fail if a committed number moved
	$(BIN)/optfactors verify --results $(RESULTS)

collect: install ## run records of EXP -> results/<exp>/runs.csv and curves.csv
	@for exp in $(EXP); do $(BIN)/optfactors collect $$exp --results $(RESULTS) || exit 1; done

figures: install ## every registered figure whose tables exist -> results/figures/*.png|pdf
	$(BIN)/optfactors figures --results $(RESULTS)

report: install ## every registered claim, checked against the tables -> results/REPORT.md (offline: never goes to W&B)
	$(BIN)/optfactors report --results $(RESULTS)

publish: install ## one W&B report run per study: its tables, figures and claims (online when logged in, else offline)
	$(BIN)/optfactors publish --results $(RESULTS)

dashboard: install ## per study, a W&B report of the lecture's figures (offline: specs -> results/dashboards/)
	$(BIN)/optfactors dashboard --profile $(PROFILE) --out $(RESULTS)/dashboards

bench: install ## benchmarks (one process, quiet machine please) -> results/bench/bench.csv and a table
	$(BIN)/optfactors bench --results results

new-study: install ## a new study NAME=...: manifest, profiles, package with a claim and a figure, test
	@test -n "$(NAME)" || { echo "make new-study NAME=<name>"; exit 2; }
	$(BIN)/optfactors new-study $(NAME)

clean: ## remove Hydra, Lightning and W&B output folders (keeps results/ and .venv)
	rm -rf outputs multirun lightning_logs wandb results/wandb results/paper/wandb
