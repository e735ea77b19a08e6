"""The package type-checks under ``mypy --strict`` (py.typed is in the wheel), and so do the
example and typing_probe.py, whose expectations are what developers' type checkers see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# mypy is pinned in sdk/python/.venv (requirements-dev.txt) only: the tests' runs on the oldest
# and newest Python (requirements-matrix.txt) leave the type check to that one.
pytest.importorskip("mypy", reason="mypy is in sdk/python/.venv only: the type check runs there")

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_passes_on_the_package_the_example_and_the_typing_probe(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--warn-unused-ignores", "--python-version", "3.10",
         "--cache-dir", str(tmp_path / "mypy-cache"),
         "src/dream_api", "examples/gated_server.py", "tests/unit/typing_probe.py"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MYPYPATH": str(ROOT / "src")},
    )
    assert run.returncode == 0, run.stdout + run.stderr
