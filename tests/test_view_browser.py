"""`blinasim view` in a real headless browser: the page loads, the lattice is drawn, Step and Play advance the model.

The browser is the system's Chromium (Debian's ``chromium`` package, /usr/bin/chromium; ``.ci/run`` installs
it), driven by playwright, which never downloads a browser of its own here. A browser that cannot start fails
the test. Only an explicit ``BLINASIM_NO_BROWSER=1`` (never set by CI) skips it; ``BLINASIM_CHROMIUM`` names
another Chromium binary.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BLINASIM_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    os.environ.get("BLINASIM_NO_BROWSER") == "1", reason="BLINASIM_NO_BROWSER=1: no browser on this machine"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`blinasim view` on a free local port (a small lattice), stopped afterwards."""
    port = _free_port()
    log = tmp_path / "view.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "blinasim.cli", "view", "--port", str(port), "--set", "simulation.lattice_size=32"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"blinasim view exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"blinasim view did not answer on {url} within 180 s:\n{log.read_text()}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_page_draws_the_marrow_and_step_and_play_advance_it(server, tmp_path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), (
        f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does), "
        "or set BLINASIM_NO_BROWSER=1 on a machine without a browser"
    )
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(server, wait_until="domcontentloaded")
            day = page.locator(".blinasim-day")
            day.wait_for()
            assert day.inner_text().strip() == "day 0.00"
            census = page.locator(".blinasim-census").inner_text()
            assert "blasts" in census and "T-cells" in census
            # The lattice and the courses are drawn: two PNG images with real pixels.
            page.wait_for_function(
                "Array.from(document.images).filter(i => i.complete && i.naturalWidth > 100).length >= 2"
            )
            page.screenshot(path=str(shots / "0-loaded.png"))

            page.get_by_role("button", name="Step", exact=True).click()
            page.wait_for_function("document.querySelector('.blinasim-day').innerText.trim() === 'day 0.25'")
            assert page.get_by_text("Time: 1.0").count() == 1  # Mesa's own step counter
            page.screenshot(path=str(shots / "1-step.png"))

            page.get_by_role("button", name="▶", exact=True).click()
            page.wait_for_function(
                "parseFloat(document.querySelector('.blinasim-day').innerText.replace('day ', '')) >= 1.0"
            )
            page.get_by_role("button", name="❚❚", exact=True).click()
            page.screenshot(path=str(shots / "2-played.png"))
            assert page.locator(".blinasim-census").inner_text() != census
        finally:
            browser.close()
    assert all((shots / n).stat().st_size > 10_000 for n in ("0-loaded.png", "1-step.png", "2-played.png"))
