"""`python -m aadap demo`: the README's main job."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import aadap
from aadap.demo import run_demo

EXPECTED = [
    ("Daily revenue report", "COMPLETED"),
    ("Purge stale staging rows", "COMPLETED"),
    ("Rename customer columns", "COMPLETED"),
    ("Summarise support tickets", "CANCELLED"),
    ("Parse a malformed request", "CANCELLED"),
    ("Tweak after approval", "CANCELLED"),
]


def test_demo_drives_every_story_and_the_store_verifies(tmp_path: Path) -> None:
    out = io.StringIO()
    database = tmp_path / "demo.db"
    assert run_demo(database, out=out) == EXPECTED
    text = out.getvalue()
    assert text.count("verify: ok") == 6
    for refusal in ("ApprovalError", "TokenBudgetExceededError", "LoopDetectedError",
                    "ApprovalRequiredError"):  # fmt: skip
        assert f"refused ({refusal})" in text
    assert "('2026-11-23', 200.5, 2)" in text  # the report's SQL really ran
    engine = aadap.Engine.open(f"sqlite:///{database}")
    tasks = engine.list_tasks(limit=10)
    assert len(tasks) == 6
    assert all(engine.verify(t.id).ok for t in tasks)
    violations = [a for a in engine.audit() if a.event_type == "guard.violation"]
    assert len(violations) == 5


def test_demo_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "aadap", "demo"], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("Tweak after approval             CANCELLED")
