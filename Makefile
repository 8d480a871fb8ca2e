# lapor-gateway — `make run` serves with an embedded Redis, `make test` passes the tests.
.PHONY: setup run test test-all lint smoke bench clean lock docs

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/lapor-gateway serve

test: setup
	LAPOR_SETUP_BROWSER=1 LAPOR_SETUP_PROMTOOL=1 bash scripts/setup.sh >/dev/null
	.venv/bin/python -m pytest -q
	.venv/bin/ruff check .
	.venv/bin/mypy gateway channels dispatcher normalizer config

test-all: setup
	.venv/bin/python -m pytest -q -m "slow or not slow"

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy gateway channels dispatcher normalizer config

smoke:
	bash ../shared/contract/smoke/run.sh .

bench: setup
	.venv/bin/python -m bench.load --help

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache

lock: setup  # the image's dependencies, hash-pinned (pip-tools)
	.venv/bin/python -m pip install -q pip-tools
	.venv/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --output-file requirements.lock pyproject.toml

docs: setup  # docs/configuration.md and .env.example from config/settings.py
	.venv/bin/python scripts/gen_config_reference.py
