"""The command line as a new user runs it: serve, migrate, token, and graceful shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reelforge.auth import verify_token
from reelforge.config import Settings
from reelforge.startup import free_port
from tests.processes import cli_token, env, valkeys_under, wait_ready


def test_serve_answers_health_and_leaves_no_valkey_behind(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(port)],
        env=env(tmp_path),
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_ready(base, process)
        assert ready.json()["checks"] == {
            "database": "ok",
            "redis": "ok",
            "storage": "ok",
            "worker": "ok",  # the in-process worker
        }
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert valkeys_under(tmp_path), "serve should run an embedded Valkey"
        assert b"# HELP http_request_duration_seconds" in httpx.get(f"{base}/metrics").content
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()[-3000:]
    assert "Bearer " in stderr.decode()  # the ready-made development token
    assert not valkeys_under(tmp_path)
    assert (tmp_path / "data" / "reelforge.db").exists()
    assert (tmp_path / "data" / "valkey" / "appendonlydir").exists()  # AOF on


def test_migrate_twice_changes_nothing(tmp_path: Path) -> None:
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "reelforge.cli", "migrate"],
            env=env(tmp_path),
            capture_output=True,
        )
        assert result.returncode == 0, result.stderr.decode()


def test_token_mints_a_verifiable_jwt(tmp_path: Path) -> None:
    principal = verify_token(Settings(_env_file=None), cli_token(tmp_path))  # type: ignore[call-arg]
    assert (principal.client_id, principal.user_id) == ("acme", "alice")


def test_production_refuses_a_placeholder_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reelforge.cli", "migrate"],
        env=env(tmp_path, ENV="production", JWT_SECRET="change-me"),
        capture_output=True,
    )
    assert result.returncode == 2
    assert b"JWT_SECRET" in result.stderr


@pytest.mark.slow
def test_generate_makes_a_video_on_a_fresh_install(tmp_path: Path) -> None:
    out = tmp_path / "ad.mp4"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reelforge.cli",
            "generate",
            "Cold brew coffee. Smooth and bold. Try it today.",
            "--scenes",
            "1",
            "--duration",
            "2",
            "--resolution",
            "480p",
            *("--voice", "espeak:en-GB", "--captions", "sentence", "--music", "calm"),
            "--yes",
            "--out",
            str(out),
        ],
        env=env(tmp_path),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert out.stat().st_size > 1000 and out.read_bytes()[4:8] == b"ftyp"
    assert b"LUFS" in result.stderr and b"Smooth and bold." in result.stderr  # the narration
    assert "Try it today." in out.with_suffix(".srt").read_text()
    assert b"wrote" in result.stderr and not valkeys_under(tmp_path)
