"""Checks of the deployment files (Dockerfile, compose, fly.toml, deploy/) against the app.

External linters (hadolint, promtool, amtool, shellcheck) are skipped with a reason when
missing on a developer's machine, and fail the run when missing under CI=true.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str, install_hint: str) -> str:
    """Path of an executable: on PATH or next to this interpreter (a venv's bin/)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    message = f"{name} is not installed ({install_hint})"
    if in_ci():
        pytest.fail(f"{message}; CI must install it")
    pytest.skip(message)
