# The two commands of README.md: `make demo` and `make test`. Both set up .venv from the
# project's own files first (torch pinned to the CPU build by constraints.txt).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: setup demo test clean

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel
	$(PIP_INSTALL) -e ".[dev,tflite]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/spikelite demo --output-dir artifacts/demo

test: setup
	$(PY) -m pytest -n 2 --dist loadfile -q

clean:
	rm -rf $(VENV) artifacts .pytest_cache
