"""Run by the interpreter of a fresh virtual environment holding only the installed wheel.

Usage: python wheel_smoke.py HTTPS_URL SQLITE_FILE_WITH_ONE_TABLE
Prints one JSON object with what it saw; exits non-zero on any failure.
"""

import json
import sys
import time

started = time.perf_counter()
import aadap  # noqa: E402
from aadap import _core  # noqa: E402

import_seconds = time.perf_counter() - started

url, database = sys.argv[1], sys.argv[2]
report: dict[str, object] = {"import_seconds": import_seconds, "module": aadap.__file__}

probe = _core.probe_store(_core.DatabaseUrl(database), "smoke")
assert probe.reachable, probe.detail
assert "1 tables" in probe.detail, probe.detail
report["sqlite"] = probe.detail

faiss = _core.faiss_self_test()
assert faiss.ok, faiss.detail
report["blas"] = faiss.blas

settings = aadap.Settings.from_env()
from aadap.tls import ca_bundle  # noqa: E402

bundle = ca_bundle(settings)
check = _core.check_endpoint(url, bundle, True, settings.correlation_id_header, "smoke", 10.0)
assert check.reachable, check.detail
report["https"] = check.detail
report["ca_bundle_source"] = bundle.source
print(json.dumps(report))
