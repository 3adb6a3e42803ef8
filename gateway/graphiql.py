"""GraphiQL served without internet access.

Strawberry's stock GraphiQL page (``strawberry/static/graphiql.html``) loads React, GraphiQL and
the explorer plugin from unpkg.com. ``scripts/install-graphiql-assets.sh`` vendors those seven
files (byte-identical, checked against the page's sha384 SRI hashes) into
``gateway/static/graphiql/``. This module rewrites strawberry's page to load them from the
gateway itself and to open with our own default query.

Wiring (see the app factory)::

    Mount("/graphiql-static", graphiql_static_app())

    class GatewayGraphQL(GraphQL):
        async def render_graphql_ide(self, request: Request) -> Response:
            if missing := missing_assets():
                return PlainTextResponse(missing_assets_message(missing), status_code=503)
            return HTMLResponse(offline_graphiql_html(asset_prefix="/graphiql-static",
                                                      default_query=DEFAULT_QUERY))
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Final

from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "GRAPHIQL_ASSETS",
    "GRAPHIQL_ASSET_DIR",
    "INSTALL_SCRIPT",
    "PAGE_TITLE",
    "graphiql_static_app",
    "missing_assets",
    "missing_assets_message",
    "offline_graphiql_html",
]

GRAPHIQL_ASSET_DIR: Final[Path] = Path(__file__).resolve().parent / "static" / "graphiql"
"""Where ``scripts/install-graphiql-assets.sh`` puts the vendored files (git-ignored)."""

INSTALL_SCRIPT: Final = "scripts/install-graphiql-assets.sh"

PAGE_TITLE: Final = "perpgraph — GraphiQL"

# unpkg URL in strawberry 0.341.2's graphiql.html -> file name in GRAPHIQL_ASSET_DIR.
# Keep in sync with ASSETS in scripts/install-graphiql-assets.sh.
GRAPHIQL_ASSETS: Final[dict[str, str]] = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "style.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "index.umd.js",
}

# The template's initial editor contents: a JS template literal assigned to EXAMPLE_QUERY.
_EXAMPLE_QUERY_RE: Final = re.compile(r"const EXAMPLE_QUERY = `(?:[^`\\]|\\.)*`;", re.DOTALL)
_CREATE_GRAPHIQL: Final = "React.createElement(GraphiQL, {"
_TITLE_RE: Final = re.compile(r"<title>.*?</title>", re.DOTALL | re.IGNORECASE)
_HEAD_RE: Final = re.compile(r"<head>", re.IGNORECASE)


def _template_changed(what: str) -> RuntimeError:
    return RuntimeError(
        f"strawberry's GraphiQL template (strawberry.http.ides.get_graphql_ide_html('graphiql')) "
        f"changed: {what}. Update gateway/graphiql.py and {INSTALL_SCRIPT} for the new "
        f"strawberry-graphql version."
    )


def _js_string_literal(value: str) -> str:
    """``value`` as a JavaScript string literal that is safe inside an HTML ``<script>``.

    JSON with ``ensure_ascii`` also escapes U+2028/U+2029; escaping ``<``, ``>`` and ``&`` means
    no ``</script>``, ``<!--`` or ``]]>`` sequence can appear in the markup.
    """
    return (
        json.dumps(value, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def offline_graphiql_html(
    *, asset_prefix: str, default_query: str, default_headers: str | None = None
) -> str:
    """Strawberry's GraphiQL page, loading its assets from ``asset_prefix`` instead of unpkg.

    The SRI ``integrity`` attributes are kept: the vendored files are byte-identical. The editor
    opens with ``default_query`` (unless the URL carries ``?q=...``), which is also GraphiQL's
    ``defaultQuery`` for new tabs. ``default_headers`` (JSON text, e.g. the demo's API key)
    fills the Headers tab unless the URL carries ``?headers=...``. The result is cached.

    Raises ``RuntimeError`` if strawberry's template no longer looks as expected.
    """
    return _offline_graphiql_html(asset_prefix, default_query, default_headers)


_HEADERS_STATE: Final = "React.useState(parameters.headers)"


@functools.lru_cache(maxsize=16)
def _offline_graphiql_html(
    asset_prefix: str, default_query: str, default_headers: str | None
) -> str:
    page = get_graphql_ide_html("graphiql")
    prefix = asset_prefix.rstrip("/")

    for url, filename in GRAPHIQL_ASSETS.items():
        if url not in page:
            raise _template_changed(f"it no longer references {url}")
        page = page.replace(url, f"{prefix}/{filename}")
    if "https://unpkg.com/" in page:
        leftover = re.findall(r"https://unpkg\.com/[^\"'\s]+", page)
        raise _template_changed(f"it loads assets not vendored here: {', '.join(leftover)}")

    query_js = f"const EXAMPLE_QUERY = {_js_string_literal(default_query)};"
    page, count = _EXAMPLE_QUERY_RE.subn(lambda _m: query_js, page)
    if count != 1:
        raise _template_changed("no single `const EXAMPLE_QUERY = `...`;` to replace")

    if page.count(_CREATE_GRAPHIQL) != 1:
        raise _template_changed(f"no single {_CREATE_GRAPHIQL!r} to add defaultQuery to")
    page = page.replace(
        _CREATE_GRAPHIQL, f"{_CREATE_GRAPHIQL}\n          defaultQuery: EXAMPLE_QUERY,"
    )

    if default_headers is not None:
        if page.count(_HEADERS_STATE) != 1:
            raise _template_changed(f"no single {_HEADERS_STATE!r} to default the headers in")
        page = page.replace(
            query_js,
            f"{query_js}\n      const DEFAULT_HEADERS = {_js_string_literal(default_headers)};",
        )
        page = page.replace(_HEADERS_STATE, "React.useState(parameters.headers || DEFAULT_HEADERS)")
        page = page.replace(
            _CREATE_GRAPHIQL, f"{_CREATE_GRAPHIQL}\n          defaultHeaders: DEFAULT_HEADERS,"
        )

    title = f"<title>{html.escape(PAGE_TITLE)}</title>"
    page, count = _TITLE_RE.subn(lambda _m: title, page, count=1)
    if count != 1:
        raise _template_changed("it has no <title>")

    # The title is not ASCII; declare the encoding in the page too, not only in Content-Type.
    if "<meta charset" not in page.lower():
        head = '<head>\n    <meta charset="utf-8" />'
        page, count = _HEAD_RE.subn(lambda _m: head, page, count=1)
        if count != 1:
            raise _template_changed("it has no <head>")

    return page


def missing_assets() -> list[str]:
    """File names of the vendored GraphiQL assets not present in ``GRAPHIQL_ASSET_DIR``."""
    return [name for name in GRAPHIQL_ASSETS.values() if not (GRAPHIQL_ASSET_DIR / name).is_file()]


def missing_assets_message(missing: list[str]) -> str:
    """Text for the 503 response when GraphiQL cannot be served."""
    return (
        f"GraphiQL is unavailable: {len(missing)} of {len(GRAPHIQL_ASSETS)} asset files are "
        f"missing from {GRAPHIQL_ASSET_DIR} ({', '.join(missing)}). "
        f"Run {INSTALL_SCRIPT} (needs npm and the npm registry) to install them."
    )


def graphiql_static_app() -> StaticFiles:
    """ASGI app serving ``GRAPHIQL_ASSET_DIR``; mount it at the ``asset_prefix`` path."""
    return StaticFiles(directory=GRAPHIQL_ASSET_DIR, check_dir=False)
