"""The live dashboard in a real browser: Debian's chromium and chromedriver, driven by
Selenium, watch items flow through a real worker; a screenshot goes to test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from pipeline.config import Settings
from tests.conftest import ROOT, raw_item
from tests.integration.conftest import WorkerProcess, isolated, start_worker, wait_for

pytestmark = pytest.mark.kafka

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "test-artifacts"


def install_browser() -> str | None:
    """Install Debian's chromium and chromium-driver if absent; the reason when impossible."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "chromium and chromium-driver are absent and apt-get cannot install them here"
    result = subprocess.run(
        ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"],
        capture_output=True,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        timeout=900,
        check=False,
    )
    if result.returncode != 0 or not CHROMEDRIVER.exists():
        lines = result.stderr.decode(errors="replace").strip().splitlines() or ["no output"]
        return f"apt-get install chromium chromium-driver failed: {lines[-1]}"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    reason = install_browser()
    if reason is not None:
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1440,1400"):
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except WebDriverException as error:
        pytest.skip(f"chromium does not start here: {error.msg}")
    yield driver
    driver.quit()


def test_the_page_loads_nothing_from_elsewhere(worker: WorkerProcess) -> None:
    for path in ("/", "/dashboard.js", "/dashboard.css"):
        status, body = worker.get(path)
        assert status == 200, path
        addresses = set(re.findall(rb"https?://[^\s\"')]+", body))
        assert addresses <= {b"http://www.w3.org/2000/svg"}, path


def test_counters_rise_and_stories_appear_while_items_flow(
    worker: WorkerProcess, browser: webdriver.Chrome
) -> None:
    browser.get(worker.settings.web_url + "/")

    def text(element_id: str) -> str:
        return str(browser.find_element(By.ID, element_id).text)

    wait_for(lambda: text("status") == "ready", timeout=30)
    before = int(text("total-published"))
    marker = uuid.uuid4().hex[:8]
    headline = f"Gdansk harbour reopens {marker}"
    items = [
        raw_item(
            f"{headline}\n\nThe harbour in Gdansk reopened on Monday after the storm, the "
            "Polish port authority said. Lech Walesa attended the ceremony in Poland."
        ),
        raw_item(
            f"Rail strike called off {marker}\n\nDeutsche Bahn and the GDL union agreed on "
            "a new contract in Berlin on Tuesday, ending the strike in Germany."
        ),
    ]
    outcomes = worker.collect(items)
    assert {o.status for o in outcomes.values()} == {"published"}

    wait_for(lambda: int(text("total-published")) >= before + 2, timeout=30)
    wait_for(lambda: headline in text("latest"), timeout=30)
    wait_for(lambda: "Gdansk" in text("top-place"), timeout=30)
    # The throughput chart draws a line once a rate can be computed (ten seconds of samples).
    wait_for(
        lambda: bool(browser.find_elements(By.CSS_SELECTOR, "#chart-throughput path.series")),
        timeout=30,
    )
    assert text("kpi-published") not in ("", "–")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_an_open_event_stream_ends_when_the_worker_stops(kafka: Settings, tmp_path: Path) -> None:
    """A dashboard left open must not hold the worker: on SIGTERM its stream ends and the
    worker exits cleanly, well inside an orchestrator's 30 s grace (it used to wait a
    minute for the next sample that never came)."""
    settings = replace(isolated(kafka), home=tmp_path, enrich=False)
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        with urllib.request.urlopen(settings.web_url + "/events", timeout=30) as stream:
            assert stream.readline().startswith(b"event: history")
            os.killpg(worker.process.pid, signal.SIGTERM)
            stream.read()  # returns once the server ends the stream (else: timed out)
            assert worker.process.wait(timeout=15) == 0
    finally:
        worker.stop()
