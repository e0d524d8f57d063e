"""The running app (`streamlit run`, a free port, a temporary SQLite file) and headless Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
STARTUP_TIMEOUT_S = 30


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests are required)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright (never `playwright install`)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200 and response.read() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="session")
def app_database_url(tmp_path_factory) -> str:
    """The running app's database, for a test that arranges its data with core.store."""
    return f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'huddle.db'}"


@dataclass
class AppProcess:
    """A running `streamlit run app.py`: its address, its process and its log."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def kill(self) -> None:
        """Kill it at once (SIGKILL), as a crash or an out-of-memory kill would."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if "Traceback" in self.log_path.read_text():
            print(self.log_path.read_text()[-3000:])


def start_app(
    database_url: str, log_path: Path, *, port: int | None = None, **settings: str
) -> AppProcess:
    """Start the app over this database and wait until it answers; offline model unless
    `settings` (environment variables such as ANTHROPIC_BASE_URL) say otherwise."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # Empty values also hide a developer's .streamlit/secrets.toml.
        "ANTHROPIC_API_KEY": "",
        "ANTHROPIC_BASE_URL": "",
        "HUDDLE_COOKIE_KEY": "",
        "HUDDLE_ALLOW_REGISTRATION": "",
        **settings,
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    app = AppProcess(url, process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            app.stop()
            pytest.fail(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return app


@contextlib.contextmanager
def serve(database_url: str, folder: Path, **settings: str) -> Iterator[str]:
    """The app over this database while the block runs; yields its URL."""
    app = start_app(database_url, folder / "streamlit.log", **settings)
    try:
        yield app.url
    finally:
        app.stop()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, app_database_url) -> Iterator[str]:
    """The app shared by the browser tests that arrange their own coach and data."""
    with serve(app_database_url, tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture
def fresh_app_server(tmp_path) -> Iterator[str]:
    """The app on a database of its own with no account yet: a fresh install."""
    with serve(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path) as url:
        yield url


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where a browser test saves the screenshots README.md shows.

    docs/screenshots/ when HUDDLE_UPDATE_SCREENSHOTS=1 is set (so an ordinary `make test`
    leaves the tree clean), otherwise the test's temporary folder.
    """
    if os.environ.get("HUDDLE_UPDATE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
    else:
        folder = tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
