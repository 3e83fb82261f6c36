# Every target bootstraps .venv on first use: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-plain check-op demo bench lint format docs-images clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test,plot]'
	touch $(STAMP)

# The suite runs on both engines, each chosen the way a user chooses it (PEP 399): first the
# compiled engine (the default) over everything, then the plain one (AUTOGRAD_PLAIN=1, read by a
# fresh process at import) over the tests of autograd, nn and viz and the blocks of the README and
# docs/. The plain pass leaves out tests/demos (whole training scripts in subprocesses: ~90 s
# more on the plain engine, through the public API the rest covers on both engines), the two
# Chromium tests of viz (they drive the pages' JavaScript; the pages' content is tested on both
# engines) and the packaging, benchmark, notebook and import-cycle checks (the same whatever the
# engine). On the base install: about 1m45s of CPU for the first pass and 1m10s for the second.
PLAIN_TESTS := tests/autograd tests/nn tests/viz tests/test_docs.py tests/test_readme.py \
	--ignore=tests/viz/test_browser.py --ignore=tests/viz/test_training_browser.py

test: $(STAMP)
	$(PY) -m pytest -q
	@$(MAKE) --no-print-directory test-plain

# pytest's exit code 5 ("no tests collected", e.g. a PYTEST_ARGS selection) is not a failure.
test-plain: $(STAMP)
	AUTOGRAD_PLAIN=1 $(PY) -m pytest -q $(PYTEST_ARGS) $(PLAIN_TESTS) || [ $$? -eq 5 ]

# Everything the tests ask of one op (docs/adding-an-op.md), on both engines: `make check-op
# OP=cube`. The engine forward and backward, grad(grad(...)), the tape, the picture, the PyTorch
# twin (where torch is installed), the table's rule checks and the nan/inf cases, and the
# whole-table checks (tests named test_every...: a method, a twin, a record for every op).
OP_TESTS := tests/autograd/test_each_op.py tests/autograd/test_ops.py tests/autograd/test_nonfinite.py
check-op: $(STAMP)
	@test -n "$(OP)" || { echo "usage: make check-op OP=<op name>"; exit 2; }
	$(PY) -m pytest -q -rs $(OP_TESTS) -k "$(OP) or every"
	AUTOGRAD_PLAIN=1 $(PY) -m pytest -q -rs $(OP_TESTS) -k "$(OP) or every"

demo: $(STAMP)
	$(PY) demos/run_all.py --out out

# The README's pictures, made by the demos (never drawn by hand): run them, keep what it shows.
DOCS_BUILD := out/docs-images
docs-images: $(STAMP)
	rm -rf $(DOCS_BUILD)
	$(PY) demos/neuron.py --out $(DOCS_BUILD)
	$(PY) demos/moons.py --out $(DOCS_BUILD)
	$(PY) demos/spirals.py --out $(DOCS_BUILD)
	mkdir -p docs
	cp $(DOCS_BUILD)/neuron_graph.svg $(DOCS_BUILD)/neuron_graph.png \
		$(DOCS_BUILD)/moons_boundary.png $(DOCS_BUILD)/spirals_regions.png \
		$(DOCS_BUILD)/moons_training.gif docs/
	# The training page as a browser shows it (needs chromium, chromium-driver and selenium).
	$(PY) docs/screenshot.py $(DOCS_BUILD)/moons_training.html docs/moons_training.png \
		--frame 30 --hover 'path.edge[data-to="3_0"][data-from="2_4"]' --size 1440x1080
	# The convolution's picture: the digits demo needs scikit-learn (the digits extra).
	$(PY) -m pip install --quiet -e '.[digits]'
	$(PY) demos/digits_conv.py --out $(DOCS_BUILD)
	cp $(DOCS_BUILD)/digits_conv_pool.svg docs/

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench,torch,digits]'
	$(PY) benchmarks/vs_micrograd.py
	@echo
	$(PY) benchmarks/tape.py --torch-compile
	@echo
	$(PY) benchmarks/digits.py
	@echo
	$(PY) benchmarks/conv.py
	@echo
	$(PY) benchmarks/threads.py
	@uptime

lint: $(STAMP)
	$(PY) -m pip install --quiet ruff
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m pip install --quiet ruff
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) out build dist *.egg-info .pytest_cache .hypothesis
