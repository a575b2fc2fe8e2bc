# Two commands do everything on a fresh machine: `make deploy` and `make test`.
# Each installs what it needs first (a stamp file avoids reinstalling).

ENV ?= local
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE22 := $(TOOLS)/node_modules/node/bin/node
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
ACTION_VALIDATOR := $(TOOLS)/node_modules/.bin/action-validator

# jsii (under cdktf) needs a supported Node; Node 20 is end-of-life for it.
export JSII_NODE := $(abspath $(NODE22))
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install deploy destroy plan render validate test fuzz bench doctor clean

install: $(STAMP)

$(NODE22) $(ACTION_VALIDATOR): $(TOOLS)/package.json
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error
	@touch $(NODE22)

$(STAMP): pyproject.toml $(NODE22) scripts/install_kube_tools.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python scripts/install_kube_tools.py
	@touch $@

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==3.3.30'
	@touch $@

deploy: $(STAMP)
	$(BIN)/eksml deploy $(ENV) $(ARGS)

destroy: $(STAMP)
	$(BIN)/eksml destroy $(ENV) $(ARGS)

plan: $(STAMP)
	$(BIN)/eksml plan $(ENV) $(ARGS)

render: $(STAMP)
	$(BIN)/eksml render $(ENV) $(ARGS)

validate: $(STAMP)
	$(BIN)/eksml validate $(ENV)

doctor: $(STAMP)
	$(BIN)/eksml doctor

# Three workers on two cores: the two emulator files spend most of their time in provider waits.
test: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -q -n 3 --dist loadfile $(ARGS)

# The property test of the validation gate with thousands of mutated environment files (not part of `make test`).
fuzz: $(STAMP)
	EKSML_FUZZ_EXAMPLES=$${EKSML_FUZZ_EXAMPLES:-5000} $(BIN)/pytest -q -p no:xdist tests/test_validate_fuzz.py $(ARGS)

bench: $(STAMP)
	$(BIN)/python scripts/bench.py $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(TOOLS)/node_modules cdktf.out .eksml out
