"""`pip install .` without the source tree: a wheel built from the repository migrates and runs the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_a_wheel_installed_elsewhere_runs_the_demo(lw_env, tmp_path, chromium_path) -> None:
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)]
    built = subprocess.run(build, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("linkwatch-*.whl")

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                               capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stderr
    # The dependencies come from this test run's environment, as a plain path: its editable finder
    # for the repository is not loaded, so `linkwatch` can only come from the wheel.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    env = {**os.environ, **lw_env, "LINKWATCH_CHROMIUM": chromium_path, "PYTHONPATH": ""}
    where = subprocess.run([str(python), "-c", "import linkwatch, linkwatch.db.sql as s; "
                            "print(linkwatch.__file__); print(s.SQL_DIR)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(str(target) in line for line in where), where  # the wheel's code and SQL, not the repo's
    args = ["--database-url", lw_env["LINKWATCH_DATABASE_URL"], "demo", "--out", str(tmp_path / "out")]
    demo = subprocess.run([str(target / "bin" / "linkwatch"), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert demo.returncode == 0, demo.stderr
    assert "media requests received by the demo forum: 0" in demo.stdout
    assert list((tmp_path / "out").glob("linkwatch-referral-*.xlsx"))
