"""Browser tests: a real uvicorn server on a seeded SQLite file, driven by Debian's chromium.

The server runs in a background thread on a free port; the browser is Playwright's chromium
driver pointed at /usr/bin/chromium (never ``playwright install``). Screenshots land in the
pytest temporary directory (``--basetemp`` to choose it), one per page and language.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stcoord.auth.permissions import SYSTEM
from stcoord.config import Settings
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def e2e_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The migrated and seeded database behind the test server."""
    from stcoord.seed import seed_reference

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'stcoord.db'}"
    upgrade(url)
    database = Database(make_engine(url))
    with database.scope() as session:
        seed_reference(session, SYSTEM)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def base_url(e2e_database: Database) -> Iterator[str]:
    """A served, migrated and seeded app; its URL."""
    import uvicorn

    from stcoord.web.app import create_app

    database = e2e_database
    url = database.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, secret_key="e2e-secret"), database)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser, base_url: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser tab (own cookies) that fails the test on script errors or network
    requests leaving the machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    errors: list[str] = []
    outside: list[str] = []

    def only_local(route, request) -> None:  # type: ignore[no-untyped-def]
        if request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"script errors: {errors}"
    assert not outside, f"requests left the machine: {outside}"
