"""deploy/entrypoint.sh for real: run as root, it gives a root-owned storage folder (a new
Fly or Docker volume) to uid 10001 and runs reelforge as that user, without root; run as
another user, it runs reelforge directly."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy import DEPLOY

SCRIPT = DEPLOY / "entrypoint.sh"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root and setpriv (util-linux) to switch users",
)


@pytest.fixture
def sandbox() -> Iterator[Path]:
    """A world-readable folder (pytest's tmp_path is private to root) holding a stand-in
    `reelforge` that reports who runs it, and a root-owned storage folder."""
    root = Path(tempfile.mkdtemp(prefix="reelforge-entrypoint-"))
    try:
        root.chmod(0o755)
        bin_dir = root / "bin"
        bin_dir.mkdir(mode=0o755)
        fake = bin_dir / "reelforge"
        fake.write_text(
            '#!/bin/sh\necho "uid=$(id -u) gid=$(id -g) groups=$(id -G) args=$*"\n'
            'grep -E "^Cap(Prm|Eff|Inh|Amb):" /proc/self/status | tr "\\n" " "\n'
            'touch "$VIDEO_STORAGE_PATH/written-by-app"\n'
        )
        fake.chmod(0o755)
        data = root / "data"
        (data / "old").mkdir(parents=True)
        (data / "old" / "file").write_bytes(b"x")
        os.chown(data, 0, 0)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(sandbox: Path, *args: str, user: int | None = None) -> str:
    env = {
        "PATH": f"{sandbox / 'bin'}:/usr/bin:/bin",
        "VIDEO_STORAGE_PATH": str(sandbox / "data"),
    }
    done = subprocess.run(
        ["sh", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        user=user,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_root_gives_the_volume_to_the_app_user_and_drops_root(sandbox: Path) -> None:
    out = run(sandbox, "serve", "--port", "8000")
    assert "uid=10001 gid=10001 groups=10001 args=serve --port 8000" in out
    for cap in ("CapPrm", "CapEff", "CapInh", "CapAmb"):
        assert f"{cap}:\t0000000000000000" in out, out
    data = sandbox / "data"
    assert data.stat().st_uid == 10001
    assert (data / "old" / "file").stat().st_uid == 10001  # what root left there too
    assert (data / "written-by-app").stat().st_uid == 10001


def test_an_already_owned_volume_is_left_as_it_is(sandbox: Path) -> None:
    data = sandbox / "data"
    os.chown(data, 10001, 10001)
    (data / "kept-root").write_bytes(b"x")  # not walked: only a foreign owner triggers chown
    run(sandbox, "worker")
    assert (data / "kept-root").stat().st_uid == 0


def test_a_non_root_start_runs_reelforge_directly(sandbox: Path) -> None:
    data = sandbox / "data"
    os.chown(data, 10001, 10001)
    out = run(sandbox, "migrate", user=10001)
    assert "uid=10001" in out and "args=migrate" in out
