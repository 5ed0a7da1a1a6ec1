# Quick start: `make run` runs the bot (the local sandbox when BOT_TOKEN is not set), `make test` runs every check. Both bootstrap .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench migrate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@if $(BIN)/python -m bot.sandbox --token-is-set; then $(BIN)/python -m bot; else $(BIN)/python -m bot.sandbox; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage knowledge_base sandbox tests bench

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The process tests time how fast a bot process stops: they run after the rest, one at a time.
test: lint
	$(BIN)/python -m pytest -m "not process"
	$(BIN)/python -m pytest -m process -n 0

bench: $(STAMP)
	$(BIN)/python -m bench

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

.PHONY: backup
backup: $(STAMP)
	$(BIN)/python -m bot.backup
