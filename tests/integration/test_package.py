"""The package as a user installs it: a wheel that builds without a warning, carries its
data (schemas, the broker's POM and log4j configuration, the dashboard, the demo's
samples), installs into an empty virtual environment and works outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from pipeline.config import Settings
from tests.conftest import ROOT, SEED_HEADLINE, shared_path
from tests.integration.conftest import environment, isolated

pytestmark = pytest.mark.kafka

SHIPPED = [
    "agents/kafka/pom.xml",
    "agents/kafka/log4j2.properties",
    "agents/web/static/index.html",
    "agents/cli/samples/wikinews-pelosi-speaker.txt",
    "pipeline/data/newsroom-entities.json",
    "schemas/story.schema.json",
    "schemas/ninjs-schema_3.1.json",
]


def run(*command: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_wheel_builds_quietly_installs_and_runs_outside_the_checkout(
    kafka: Settings, tmp_path: Path
) -> None:
    seed = shared_path("seeds/000_281d7284fbb2fff2.txt")
    built = run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path, ROOT,
        cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "warning" not in (built.stdout + built.stderr).lower(), built.stderr
    (wheel,) = tmp_path.glob("newswire-*.whl")
    assert set(SHIPPED) <= set(zipfile.ZipFile(wheel).namelist())

    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv, cwd=tmp_path).returncode == 0
    installed = run(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    newswire = venv / "bin" / "newswire"

    shown = run(newswire, "--version", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == "newswire 0.1.0", shown.stderr
    processed = run(newswire, "process", seed, cwd=tmp_path)
    assert processed.returncode == 0, processed.stderr
    (story,) = [orjson.loads(line) for line in processed.stdout.splitlines()]
    assert story["headlines"][0]["value"] == SEED_HEADLINE
    assert story["newswire"]["enrichment"]["status"] == "enriched"

    # The main job from the wheel alone: its samples, its worker, the suite's broker.
    demo_settings = replace(
        isolated(kafka), home=tmp_path / "home", kafka_bootstrap=kafka.bootstrap
    )
    demo = subprocess.run(
        [str(newswire), "demo", "--once"],
        cwd=tmp_path,
        env=environment(demo_settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "Escape room fire kills five teen girls in Koszalin, Poland" in demo.stdout
    assert "1 duplicates, 0 rejected" in demo.stdout
