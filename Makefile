# Two commands for a fresh machine: `make demo` (set up, get data, grade the examples) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install data build student-env clean

demo: data build student-env
	$(BIN)/assn1 grade examples/submissions -o out -j 2

test: student-env
	$(BIN)/python -m pytest

# The students' environment (grading.yml `environment`) that student code runs in; rebuilt only when a pin changes.
student-env: $(STAMP)
	$(BIN)/assn1 env create

install: $(STAMP)

data: $(STAMP) data/problem1_Xy.pkl
	$(BIN)/assn1 data generate --problem 4 --segments 7 8 9
	$(BIN)/assn1 data verify

build: $(STAMP)
	$(BIN)/assn1 build

# Offline look-alikes; use `$(BIN)/assn1 data fetch` instead for the course's real file.
data/problem1_Xy.pkl: | $(STAMP)
	$(BIN)/assn1 data generate

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "assn1 needs Python >= 3.10; set PYTHON=/path/to/python3.x"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

clean:
	rm -rf $(VENV) .venv-student *.egg-info .pytest_cache dist
