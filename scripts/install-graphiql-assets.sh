#!/usr/bin/env bash
# Vendor the seven GraphiQL browser assets that strawberry's GraphiQL page loads from unpkg.com,
# so the gateway can serve GraphiQL with no internet access (see gateway/graphiql.py).
#
#   scripts/install-graphiql-assets.sh        # PYTHON=... to pick the interpreter (default .venv/bin/python)
#
# The packages come from the npm registry (`npm pack`), and every file must match the sha384
# SRI hash in the template of the *installed* strawberry, so the page's integrity attributes
# stay valid. Idempotent: files that are already present with the right hash are not fetched again.
set -euo pipefail

# A relative $PYTHON is taken relative to the caller's directory; the default is the repo's venv.
if [[ -n "${PYTHON:-}" && "$PYTHON" == */* && "$PYTHON" != /* ]]; then
    PYTHON="$PWD/$PYTHON"
fi
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

DEST="gateway/static/graphiql"
PYTHON="${PYTHON:-$REPO_ROOT/.venv/bin/python}"

die() {
    echo "install-graphiql-assets: ERROR: $*" >&2
    exit 1
}

# unpkg URL in strawberry's template | npm spec | path inside the npm tarball
ASSETS=(
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js|react@18.2.0|package/umd/react.production.min.js"
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js|react-dom@18.2.0|package/umd/react-dom.production.min.js"
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js|js-cookie@3.0.5|package/dist/js.cookie.min.js"
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css|graphiql@3.8.3|package/graphiql.min.css"
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js|graphiql@3.8.3|package/graphiql.min.js"
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css|@graphiql/plugin-explorer@1.0.2|package/dist/style.css"
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js|@graphiql/plugin-explorer@1.0.2|package/dist/index.umd.js"
)

command -v "$PYTHON" >/dev/null 2>&1 || [[ -x "$PYTHON" ]] \
    || die "python interpreter '$PYTHON' not found (set PYTHON=/path/to/python, default .venv/bin/python)"

# "URL INTEGRITY" for every <script src>/<link href> with an integrity attribute in the template.
TEMPLATE_SRI="$(
    "$PYTHON" - <<'EOF'
import re
from strawberry.http.ides import get_graphql_ide_html

html = get_graphql_ide_html("graphiql")
for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
    url = re.search(r'\b(?:src|href)="([^"]+)"', tag)
    sri = re.search(r'\bintegrity="([^"]+)"', tag)
    if url and sri:
        print(url.group(1), sri.group(1))
EOF
)" || die "could not read strawberry's GraphiQL template with '$PYTHON' (is strawberry-graphql installed?)"

# sha384 SRI string ("sha384-<base64>") of a file
sri_of() {
    "$PYTHON" -c 'import base64, hashlib, sys
print("sha384-" + base64.b64encode(hashlib.sha384(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"
}

expected_sri() {
    local url="$1" line
    while read -r line; do
        if [[ "${line%% *}" == "$url" ]]; then
            echo "${line#* }"
            return 0
        fi
    done <<<"$TEMPLATE_SRI"
    return 1
}

# Which files are missing or wrong?
declare -A WANT_SRI=()
TODO=()
for entry in "${ASSETS[@]}"; do
    IFS='|' read -r url spec member <<<"$entry"
    name="${member##*/}"
    sri="$(expected_sri "$url")" \
        || die "strawberry's GraphiQL template no longer references $url; update ASSETS in $0 and gateway/graphiql.py"
    [[ "$sri" == sha384-* ]] || die "unexpected integrity '$sri' for $url (expected sha384-...)"
    WANT_SRI["$name"]="$sri"
    if [[ -f "$DEST/$name" ]] && [[ "$(sri_of "$DEST/$name")" == "$sri" ]]; then
        continue
    fi
    TODO+=("$entry")
done

if ((${#TODO[@]} == 0)); then
    echo "install-graphiql-assets: OK, all ${#ASSETS[@]} GraphiQL assets already present and verified in $DEST"
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found; it is needed to fetch the GraphiQL assets from the npm registry"
command -v tar >/dev/null 2>&1 || die "tar not found"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/graphiql-assets.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tgz" "$WORK/out"

declare -A TARBALL=()
for entry in "${TODO[@]}"; do
    IFS='|' read -r url spec member <<<"$entry"
    name="${member##*/}"
    if [[ -z "${TARBALL[$spec]:-}" ]]; then
        echo "install-graphiql-assets: fetching $spec from the npm registry" >&2
        tgz="$(cd "$WORK/tgz" && npm pack --silent --ignore-scripts "$spec" 2>"$WORK/npm.err" | tail -n 1)" \
            || die "npm pack $spec failed: $(tail -n 5 "$WORK/npm.err")"
        [[ -n "$tgz" && -f "$WORK/tgz/$tgz" ]] \
            || die "npm pack $spec produced no tarball: $(tail -n 5 "$WORK/npm.err")"
        TARBALL["$spec"]="$WORK/tgz/$tgz"
    fi
    mkdir -p "$WORK/x"
    tar -xzf "${TARBALL[$spec]}" -C "$WORK/x" "$member" 2>"$WORK/tar.err" \
        || die "$member not found in the $spec tarball: $(cat "$WORK/tar.err")"
    mv "$WORK/x/$member" "$WORK/out/$name"
    rm -rf "$WORK/x"
    got="$(sri_of "$WORK/out/$name")"
    [[ "$got" == "${WANT_SRI[$name]}" ]] \
        || die "hash mismatch for $name from $spec: got $got, strawberry's template expects ${WANT_SRI[$name]}"
done

# Everything verified: move into place (a rename per file, so a reader never sees half a file).
mkdir -p "$DEST"
for entry in "${TODO[@]}"; do
    IFS='|' read -r url spec member <<<"$entry"
    name="${member##*/}"
    cp "$WORK/out/$name" "$DEST/.$name.tmp"
    mv -f "$DEST/.$name.tmp" "$DEST/$name"
done

echo "install-graphiql-assets: OK, installed ${#TODO[@]} of ${#ASSETS[@]} GraphiQL assets into $DEST (all sha384 hashes match strawberry's SRI)"
