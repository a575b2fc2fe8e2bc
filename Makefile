# Two commands do everything on a fresh machine: `make deploy` and `make test`.
# Each installs what it needs first (a stamp file avoids reinstalling).

ENV ?= local
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(BIN)/uv
UV_PIN := uv==0.13.10
NODE22 := $(TOOLS)/node_modules/node/bin/node
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
ACTION_VALIDATOR := $(TOOLS)/node_modules/.bin/action-validator
CDKTF := $(TOOLS)/node_modules/.bin/cdktf

# Bytecode is cached under .venv/pycache, even where PYTHONDONTWRITEBYTECODE is set (as on some CI
# machines): otherwise every eksml, emulator and pytest process compiles all it imports anew
# (tests/test_bad_inputs.py took 26 CPU-s instead of 14). Nothing is written next to the sources.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache

# jsii (under cdktf) needs a supported Node; Node 20 is end-of-life for it.
export JSII_NODE := $(abspath $(NODE22))
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install installed test-installed deploy destroy plan render validate test fuzz mutate bench security-report doctor clean cdktf status

INSTALLED := $(STAMP) $(NODE22)

# The Python side and the Node tools install side by side.
install:
	@$(MAKE) --no-print-directory -j2 installed

installed: $(INSTALLED)
	@:

test-installed: installed $(CHECKOV_STAMP)
	@:

$(NODE22) $(ACTION_VALIDATOR) $(CDKTF): $(TOOLS)/package.json
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error
	@touch $(NODE22)

# uv fills both virtualenvs, in about 7 s where pip took 70 (pip spends most of it reading the index
# pages of packages with thousands of releases); pip in .venv only installs uv. Like pip with
# --no-compile, uv leaves byte-compiling to Python's first import.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check '$(UV_PIN)'

$(STAMP): pyproject.toml scripts/install_kube_tools.py | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -e '.[test]'
	$(BIN)/python scripts/install_kube_tools.py
	@touch $@

$(CHECKOV_STAMP): | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python 'checkov==3.3.30'
	@touch $@

deploy: install
	$(BIN)/eksml deploy $(ENV) $(ARGS)

destroy: install
	$(BIN)/eksml destroy $(ENV) $(ARGS)

plan: install
	$(BIN)/eksml plan $(ENV) $(ARGS)

render: install
	$(BIN)/eksml render $(ENV) $(ARGS)

validate: install
	$(BIN)/eksml validate $(ENV)

doctor: install
	$(BIN)/eksml doctor

# The CDKTF CLI (cdktf-cli 0.21.0 from .tools) with eksml's Terraform setup: make cdktf ENV=dev ARGS="diff cluster --skip-provider-lock"
cdktf: install
	eval "$$($(BIN)/python scripts/cdktf_env.py)" && EKSML_ENV=$(ENV) $(CDKTF) $(ARGS)

# Stacks (and releases with CONTEXT=<kubeconfig context>), then where each UI is reached.
status: install
	$(BIN)/eksml status $(ENV) $(if $(CONTEXT),--context $(CONTEXT)) $(ARGS)
	@echo
	$(BIN)/eksml endpoints $(ENV)

# A UI on 127.0.0.1 through kubectl port-forward: make port-forward-<ui>, any UI a component describes
# (`eksml endpoints ENV` lists them; a name that is none exits 2). Needs a reachable cluster (exit 1 without one).
port-forward-%: install
	$(BIN)/eksml port-forward $(ENV) $* $(if $(CONTEXT),--context $(CONTEXT)) $(ARGS)

# Three workers on two cores: the emulator files spend most of their time in provider waits. The two
# virtualenvs and the Node tools install side by side.
test:
	@$(MAKE) --no-print-directory -j3 test-installed
	$(BIN)/pytest -q -n 3 --dist loadfile --no-loadscope-reorder --durations=25 -m "not deep" $(ARGS)

# The property test of the validation gate with thousands of mutated environment files, and the deep
# cross-checks (marked `deep`): not part of `make test`.
fuzz: install
	EKSML_FUZZ_EXAMPLES=$${EKSML_FUZZ_EXAMPLES:-5000} EKSML_BUILD_EXAMPLES=$${EKSML_BUILD_EXAMPLES:-100} \
		$(BIN)/pytest -q -p no:xdist tests/test_validate_fuzz.py tests/test_overlay_fuzz.py tests/test_accepted_also_builds.py $(ARGS)
	$(BIN)/pytest -q -n 2 -m deep $(ARGS)

# Mutation testing of the gate (validation rules, MIG placement, scheduling check, promote, the
# destroy/replace protection) in a scratch copy; not part of `make test`. ARGS="--sample 20" samples.
mutate: install
	$(BIN)/python scripts/mutate.py $(ARGS)

bench: install
	$(BIN)/python scripts/bench.py $(ARGS)

# Pod Security and checkov's Kubernetes failures (values could fix / charts decide) per environment.
security-report: install $(CHECKOV_STAMP)
	$(BIN)/python scripts/security_report.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(TOOLS)/node_modules cdktf.out .eksml out
