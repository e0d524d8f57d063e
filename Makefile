# Huddle: `make run` opens the app, `make test` runs the whole suite (both create .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

$(BIN)/streamlit: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt $(BIN)/streamlit
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# LangChain, which the benchmark times beside Huddle (never needed by the app or the tests).
$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

run: $(BIN)/streamlit
	$(BIN)/python -m core migrate
	$(BIN)/streamlit run app.py

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
