#!/usr/bin/env bash
# Install what perpgraph needs into .venv (idempotent, no stdin).
#   scripts/bootstrap.sh run    the gateway and its GraphiQL assets
#   scripts/bootstrap.sh test   the above, the development tools, and Debian's chromium
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "bootstrap: perpgraph needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    "$python" -m venv .venv
fi

extras=""
[ "$mode" = test ] && extras="[dev]"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$mode"
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing perpgraph$extras into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --editable ".$extras"
    touch "$stamp"
fi

PYTHON=.venv/bin/python bash scripts/install-graphiql-assets.sh

if [ "$mode" = test ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "bootstrap: installing Debian's chromium for the GraphiQL browser test"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq chromium >/dev/null
    else
        echo "bootstrap: the browser test needs Debian's chromium: sudo apt-get install chromium" >&2
        exit 1
    fi
fi

# The access-control tests need a real Redis (PERPGRAPH_REDIS_URL; .ci/run points it at the
# local default). Start one on 127.0.0.1:6379 when none answers there.
if [ "$mode" = test ] && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    if ! command -v redis-server >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            echo "bootstrap: installing Debian's redis-server for the access-control tests"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq redis-server >/dev/null
        else
            echo "bootstrap: the access-control tests need Redis: sudo apt-get install redis-server" >&2
            exit 1
        fi
    fi
    echo "bootstrap: starting redis-server on 127.0.0.1:6379 (no persistence)"
    redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
fi
