"""The package itself: version, public names, lazy imports, the console script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aadap

ROOT = Path(__file__).resolve().parents[2]


def test_version_comes_from_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"$', text, re.MULTILINE)
    assert match is not None
    assert aadap.__version__ == match.group(1)


def test_public_names_exist() -> None:
    for name in aadap.__all__:
        assert hasattr(aadap, name), name


def test_import_is_lazy_about_heavy_dependencies() -> None:
    code = (
        "import sys, aadap; heavy = {'numpy', 'pandas', 'tqdm', 'pyarrow', 'asyncio', 'IPython'}"
        " & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "aadap"
    out = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"aadap {aadap.__version__}"
