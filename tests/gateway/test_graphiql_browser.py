"""GraphiQL works in a real browser with no internet: Debian's chromium, driven by Playwright.

Fixtures expected from tests/conftest.py:

* ``graphiql_url``: the running gateway's GraphQL endpoint, e.g. ``http://127.0.0.1:PORT/graphql``.
* ``graphiql_expected_text``: text that running the page's default query puts in the result pane.
* optionally ``graphiql_default_query``: the exact default query; without it the test compares
  the editor against the query embedded in the served page.

The test uses Playwright's async API so that it also works when the gateway runs as a task on
the session event loop (a blocking sync-API test would starve such a server).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    ConsoleMessage,
    Error,
    Request,
    Response,
    WebSocket,
    async_playwright,
)
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from gateway.graphiql import GRAPHIQL_ASSETS, PAGE_TITLE

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 30_000

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT_PANE = ".graphiql-response .CodeMirror"
EXECUTE_BUTTON = "button.graphiql-execute-button"

# The text of a CodeMirror 5 editor (GraphiQL 3.x), or null while it is not mounted.
_EDITOR_VALUE_JS = "(sel) => { const el = document.querySelector(sel); "
_EDITOR_VALUE_JS += "return el && el.CodeMirror ? el.CodeMirror.getValue() : null; }"


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.hostname in LOCAL_HOSTS


def _served_default_query(page_html: str) -> str:
    match = re.search(r"const EXAMPLE_QUERY = (\".*?\");\n", page_html)
    assert match, "the served GraphiQL page has no JSON-encoded EXAMPLE_QUERY"
    value = json.loads(match.group(1))
    assert isinstance(value, str)
    return value


@pytest.fixture
def graphiql_default_query_or_none(request: pytest.FixtureRequest) -> str | None:
    try:
        value = request.getfixturevalue("graphiql_default_query")
    except pytest.FixtureLookupError:
        return None
    assert isinstance(value, str)
    return value


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")
async def test_graphiql_renders_and_runs_offline(
    graphiql_url: str,
    graphiql_expected_text: str,
    graphiql_default_query_or_none: str | None,
    tmp_path: Path,
) -> None:
    requests: list[str] = []
    bad_responses: list[str] = []
    failed_requests: list[str] = []
    console_errors: list[str] = []
    screenshot = tmp_path / "graphiql.png"
    started = time.monotonic()

    def on_request(req: Request) -> None:
        requests.append(req.url)

    def on_response(resp: Response) -> None:
        if resp.status >= 400:
            bad_responses.append(f"{resp.status} {resp.request.method} {resp.url}")

    def on_request_failed(req: Request) -> None:
        failed_requests.append(f"{req.method} {req.url}: {req.failure}")

    def on_websocket(ws: WebSocket) -> None:
        requests.append(ws.url)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            console_errors.append(f"console.error: {msg.text} ({msg.location})")

    def on_page_error(exc: Exception) -> None:
        console_errors.append(f"uncaught: {exc}")

    def _diagnostics() -> str:
        return "\n".join(
            [
                f"requests leaving 127.0.0.1: {[u for u in requests if not _is_local(u)]}",
                f"requests: {requests}",
                f"HTTP errors: {bad_responses}",
                f"failed requests: {failed_requests}",
                f"console errors: {console_errors}",
                f"screenshot: {screenshot}",
            ]
        )

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", on_request)
            page.on("response", on_response)
            page.on("requestfailed", on_request_failed)
            page.on("websocket", on_websocket)
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            try:
                response = await page.goto(graphiql_url, wait_until="load")
                assert response is not None
                page_html = await response.text()
                assert response.status == 200, (
                    f"GET {graphiql_url}: HTTP {response.status}: {page_html[:500]}"
                )
                assert "https://unpkg.com/" not in page_html, (
                    "the GraphiQL page still loads its assets from unpkg.com: is "
                    "render_graphql_ide overridden to return offline_graphiql_html()?"
                )

                # The editor renders (the stock page would stay at "Loading..." offline).
                await page.wait_for_selector(QUERY_EDITOR, state="visible")
                await page.wait_for_selector(EXECUTE_BUTTON, state="visible")
                assert await page.title() == PAGE_TITLE

                # ... and opens with our default query.
                expected_query = graphiql_default_query_or_none or _served_default_query(page_html)
                assert expected_query.strip(), "the default query is empty"
                editor_text = await page.evaluate(_EDITOR_VALUE_JS, QUERY_EDITOR)
                assert editor_text == expected_query
                assert "Welcome to GraphiQL" not in editor_text

                # Run it and wait for the result pane to show the response.
                await page.click(EXECUTE_BUTTON)
                try:
                    await page.wait_for_function(
                        "([sel, text]) => { const el = document.querySelector(sel);"
                        " return !!(el && el.CodeMirror"
                        " && el.CodeMirror.getValue().includes(text)); }",
                        arg=[RESULT_PANE, graphiql_expected_text],
                    )
                except PlaywrightTimeoutError:
                    shown = await page.evaluate(_EDITOR_VALUE_JS, RESULT_PANE)
                    pytest.fail(f"result pane never showed {graphiql_expected_text!r}: {shown!r}")
                result_text = await page.evaluate(_EDITOR_VALUE_JS, RESULT_PANE)
                assert '"errors"' not in result_text, result_text
            except (AssertionError, Error, pytest.fail.Exception) as exc:
                # Say why the page broke: an external request or a console error usually explains.
                raise AssertionError(f"{exc}\n{_diagnostics()}") from exc
            finally:
                await page.screenshot(path=str(screenshot))
                print(f"GraphiQL screenshot: {screenshot}")
                await context.close()
        finally:
            await browser.close()

    print(f"GraphiQL browser test took {time.monotonic() - started:.1f}s")

    external = [url for url in requests if not _is_local(url)]
    assert not external, f"requests left 127.0.0.1: {external}"
    served = {urlsplit(url).path.rsplit("/", 1)[-1] for url in requests if _is_local(url)}
    missing = sorted(set(GRAPHIQL_ASSETS.values()) - served)
    assert not missing, f"vendored assets never requested: {missing}"
    assert not bad_responses, f"HTTP errors: {bad_responses}"
    assert not failed_requests, f"failed requests: {failed_requests}"
    assert not console_errors, "browser console errors:\n" + "\n".join(console_errors)
