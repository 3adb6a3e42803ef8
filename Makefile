# The two commands of the quick start, and the checks CI runs.
.PHONY: demo test check pytest schema bench-peer

demo:            ## install, then run the demo (embedded Postgres, simulated market, GraphiQL)
	bash scripts/bootstrap.sh run
	.venv/bin/perpgraph demo

test:            ## install, then run every check and the whole test suite
	bash scripts/bootstrap.sh test
	$(MAKE) --no-print-directory check pytest

check:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

# The access-control tests need a real Redis: the one bootstrap makes sure answers locally,
# unless PERPGRAPH_REDIS_URL names another.
pytest: export PERPGRAPH_REDIS_URL ?= redis://127.0.0.1:6379/0
pytest:
	.venv/bin/python -m pytest

schema:          ## regenerate schema/schema.graphql after a reviewed schema change
	.venv/bin/perpgraph export-schema -o schema/schema.graphql

bench-peer:      ## perpgraph against PostGraphile v5, side by side (about 6 minutes)
	bash scripts/bootstrap.sh test
	.venv/bin/python -m bench.peer
