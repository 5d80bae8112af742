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

.PHONY: install test demo demo-all reproduce clean-venv

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

# The OVD-Shapes model zoo in a few minutes on CPU: generate the data,
# evaluate each method's headline zoo checkpoint, print the table (other rows
# from the metafiles) and draw a detector with a custom vocabulary.
demo: install
	$(VPY) tools/shapes/demo.py --work-dir work_dirs/demo

# The same, evaluating every zoo row.
demo-all: install
	$(VPY) tools/shapes/demo.py --work-dir work_dirs/demo --all

# Retrain every zoo row from its declared stages (configs/*/ovd-shapes.stages.yml)
# and compare with the zoo; resumable. SEEDS=0,1,2 for mean and spread;
# METHODS=vl_plm (config folder names) for a part.
SEEDS ?= 0
METHODS ?=
comma := ,
reproduce: install
	$(VPY) tools/shapes/reproduce.py --work-dir work_dirs/reproduce \
		--seeds $(subst $(comma), ,$(SEEDS)) \
		$(if $(METHODS),--methods $(subst $(comma), ,$(METHODS)))

clean-venv:
	rm -rf $(VENV)
