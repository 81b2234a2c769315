"""The layers of docs/ARCHITECTURE.md, as the import-linter contract in pyproject.toml
states them: fraudctl on top, then simulation and ops, jobs, models and pages,
rules, features, and the fraud core at the bottom. `make test` runs `lint-imports`;
these tests show the contract holds and that it catches an import pointing up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("fraudctl", "simulation", "ops", "jobs", "models", "pages", "rules", "features", "fraud")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    # Only `root` on the path: the packages are analysed from there, not from the
    # editable install.
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def source_tree(into: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, into / package, ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    shutil.copy(REPO / "pyproject.toml", into / "pyproject.toml")
    return into


def test_the_layers_point_down():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Layers point down KEPT" in result.stdout


def test_an_import_pointing_up_breaks_the_contract(tmp_path):
    tree = source_tree(tmp_path)
    assert lint_imports(tree).returncode == 0
    # A feature reaching up into the pipeline: what the contract exists to stop.
    with open(tree / "features" / "normalize.py", "a") as module:
        module.write("\nfrom jobs.pipeline import STAGES  # noqa: E402\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "Layers point down BROKEN" in result.stdout
    assert "features is not allowed to import jobs" in result.stdout
    assert "features.normalize -> jobs.pipeline" in result.stdout
