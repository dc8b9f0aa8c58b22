"""Time ``shouhou demo --vertical all`` on a fresh SQLite database (not a test).

    .venv/bin/python bench/demo_build.py

Runs ``migrate`` and then ``demo`` twice in a temporary directory, each in its own process as
a user would, and prints the wall-clock seconds of the first (creating) and the second
(idempotent) run. The issue asks for under 30 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _shouhou(*args: str, env: dict[str, str]) -> tuple[float, str]:
    python = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
    started = time.perf_counter()
    result = subprocess.run(
        [python, "-m", "shouhou", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"shouhou {' '.join(args)} failed with exit code {result.returncode}")
    return elapsed, result.stdout


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="shouhou-bench-") as directory:
        env = {
            **os.environ,
            "DEBUG": "true",
            "SHOUHOU_VAR_DIR": directory,
            "DATABASE_URL": f"sqlite:///{Path(directory) / 'bench.sqlite3'}",
        }
        migrate, _ = _shouhou("migrate", "--no-input", "-v0", env=env)
        print(f"migrate                     {migrate:6.2f} s")
        first, output = _shouhou("demo", "--vertical", "all", env=env)
        print(f"demo, first run (creating)  {first:6.2f} s   [{_summary(output)}]")
        second, output = _shouhou("demo", "--vertical", "all", env=env)
        print(f"demo, second run (no-op)    {second:6.2f} s   [{_summary(output)}]")
        print("(wall clock per process, including Django start-up)")


def _summary(output: str) -> str:
    """The command's own last status line: rows created and seconds inside the build."""
    lines = [line for line in output.splitlines() if " s)" in line or "rows created in" in line]
    return lines[-1].strip() if lines else "?"


if __name__ == "__main__":
    main()
