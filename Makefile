# Two commands do everything on a fresh machine: `make brief` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SYSDEPS := .briefgen-sysdeps

.PHONY: brief test index bench eval fuzz golden starter lint clean sysdeps

$(SYSDEPS): scripts/system-deps.sh
	bash scripts/system-deps.sh
	@touch $@

sysdeps: $(SYSDEPS)

$(STAMP): pyproject.toml $(SYSDEPS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

brief: $(STAMP)
	$(VENV)/bin/briefgen build

index: $(STAMP)
	$(VENV)/bin/briefgen index

test: $(STAMP)
	$(PY) -m pytest -q

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests -m 'slow or not slow' --hypothesis-show-statistics

golden: $(STAMP)
	BRIEFGEN_REGENERATE_GOLDEN=1 $(PY) -m pytest -q tests/test_golden.py

starter: $(STAMP)
	$(PY) scripts/sync_starter.py
	$(PY) scripts/config_docs.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/run.py

eval: $(STAMP)
	$(PY) benchmarks/eval_select.py

lint: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	$(VENV)/bin/ruff check briefgen tests benchmarks
	$(VENV)/bin/mypy briefgen

clean:
	rm -rf $(VENV) .briefgen briefs $(SYSDEPS)
