# One entry point for a fresh machine: `make test` creates .venv, installs the
# pinned stack (reusing a cached mmcv wheel) and runs the whole test suite.
PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
# Hide the machine-local CPU-only torch wheel (pip config find-links) from pip:
# PyPI's torchvision only imports on PyPI's own torch build.
PIP    := env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(VPY) -m pip
CONSTR := -c requirements/constraints.txt
STAMP  := $(VENV)/.installed
DEPS   := setup.py requirements/build.txt requirements/runtime.txt \
          requirements/tests.txt requirements/constraints.txt tools/install/build_mmcv.sh

.PHONY: install test demo demo-baseline clean-venv

install: $(STAMP)

$(STAMP): $(DEPS)
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip<26"
	$(PIP) install -q $(CONSTR) -r requirements/build.txt
	bash tools/install/build_mmcv.sh $(abspath $(VPY))
	$(PIP) install -q $(CONSTR) -r requirements/runtime.txt -r requirements/tests.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(VPY) -c "import torchvision, torch; torchvision.ops.nms(torch.rand(2, 4), torch.rand(2), 0.5); import mmdet, ovd_ext; print('stack OK')"
	touch $(STAMP)

test: install
	$(VPY) -m pytest tests -q

# OVD-Shapes end to end on CPU: data, vocabulary, base-only baseline, VL-PLM
# (proposal generator, pseudo labels, student), oracle; evaluation and table.
demo: install
	$(VPY) tools/shapes/demo.py --work-dir work_dirs/demo

# The base-only baseline alone (data, vocabulary, train, evaluate, table).
demo-baseline: install
	$(VPY) tools/shapes/demo.py --work-dir work_dirs/demo --methods baseline

clean-venv:
	rm -rf $(VENV)
