"""aadap.Fabric against the local fakes (aadap.testing.FakeFabric, FakeEntra) over HTTPS."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import aadap
from aadap.testing import FakeEntra, FakeFabric

SECRET = "fabric-client-secret-0123456789"


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra(tls=True, clients={"fabric-app": SECRET}) as fake:
        yield fake


@pytest.fixture
def fabric(entra: FakeEntra) -> Iterator[FakeFabric]:
    # operations and jobs end by polls only: a slow machine must not end them on the clock
    with FakeFabric(entra=entra, lro_seconds=None, job_seconds=None) as fake:
        yield fake


def client(
    fabric: FakeFabric, entra: FakeEntra, time_: aadap.ManualTime | None = None, **options: Any
) -> aadap.Fabric:
    options.setdefault("workspace_id", fabric.workspace_id)
    options.setdefault("client_secret", SECRET)
    return aadap.Fabric(
        tenant_id=entra.tenant, client_id="fabric-app", authority=entra.authority,
        api_base=fabric.api_url, ca_bundle=str(fabric.ca_path),
        time=time_ or aadap.ManualTime(), **options,
    )  # fmt: skip


def test_items_are_listed_across_pages_and_created_through_operations(
    fabric: FakeFabric, entra: FakeEntra
) -> None:
    for n in range(5):
        fabric.add_notebook(f"nb {n}", [f"print({n})"])
    fabric.add_lakehouse("lake")
    time_ = aadap.ManualTime()
    c = client(fabric, entra, time_)
    names = {item["displayName"] for item in c.list_items("Notebook")}
    assert names == {f"nb {n}" for n in range(5)}
    assert len(c.list_items()) == 6  # page_size 2: three pages, tokens with + / = # :

    ipynb = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    item = c.create_item("made", "Notebook", definition={"notebook-content.ipynb": ipynb},
                         definition_format="ipynb")  # fmt: skip
    assert item["displayName"] == "made"
    assert fabric.operations()[-1].status == "Succeeded"  # a 202 followed to its result
    assert time_.sleeps[:1] == [1.0]  # the Retry-After of the 202 before the first poll
    assert c.get_item(item["id"])["type"] == "Notebook"
    got = c.get_definition(item["id"], format="ipynb")
    assert json.loads(got.text("notebook-content.ipynb"))["nbformat"] == 4

    with pytest.raises(aadap.RemoteError) as caught:
        c.create_item("made", "Notebook")
    assert caught.value.code == "ItemDisplayNameAlreadyInUse"
    assert caught.value.request_id
    again = c.create_item("made", "Notebook", reuse_existing=True)
    assert again["id"] == item["id"]
    c.update_definition(item["id"], {"notebook-content.py": "# Fabric notebook source\nx = 2\n"})
    assert fabric.notebook_code(item["id"]).code_cells[-1].endswith("x = 2")
    c.delete_item(item["id"])
    with pytest.raises(aadap.NotFoundError) as missing:
        c.get_item(item["id"])
    assert missing.value.code == "ItemNotFound"


def test_a_notebook_runs_and_returns_its_exit_value(fabric: FakeFabric, entra: FakeEntra) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Daily load", platform="fabric")
    lake = fabric.add_lakehouse("lake")
    time_ = aadap.ManualTime()
    c = client(fabric, entra, time_, engine=engine, lakehouse_id=lake.id)
    seen: list[str] = []
    run = c.run_notebook(
        'df = spark.range(int(rows))\nnotebookutils.notebook.exit(str(df.count()))',
        parameters={"rows": 3, "label": "x", "full": True, "ratio": 0.5},
        progress=lambda instance: seen.append(instance["status"]), task_id=task.id,
    )  # fmt: skip
    assert run.status == "Completed"
    assert run.exit_value == "str(df.count())"  # the fake reports a non-literal's text
    assert seen[-1] == "Completed"
    assert seen[0] in {"NotStarted", "InProgress"}
    job = fabric.job(run.job_instance_id)
    assert job.job_type == "RunNotebook"
    assert job.execution_data["parameters"] == {
        "rows": {"value": 3, "type": "int"},
        "label": {"value": "x", "type": "string"},
        "full": {"value": True, "type": "bool"},
        "ratio": {"value": 0.5, "type": "float"},
    }
    assert "configuration" not in job.execution_data  # the lakehouse is bound in the notebook
    code = fabric.notebook_code(run.item_id)
    assert code.language == "python"
    # declared with neutral values (a run passes the real ones), sorted by name
    assert code.code_cells[0].splitlines() == ["full = False", 'label = ""', "ratio = 0.0",
                                               "rows = 0"]  # fmt: skip
    assert code.lakehouse is not None
    assert code.lakehouse["default_lakehouse"] == lake.id
    # the Retry-After of the 202 waited for before the first poll, then the GETs'
    assert time_.sleeps[-len(seen) :] == [1.0] * len(seen)

    # the same code reuses its notebook, unchanged
    again = c.run_notebook(
        'df = spark.range(int(rows))\nnotebookutils.notebook.exit(str(df.count()))',
        parameters={"rows": 4, "label": "y", "full": False, "ratio": 1.5},
    )  # fmt: skip
    assert again.item_id == run.item_id
    assert len(fabric.items(item_type="Notebook")) == 1

    resources = [(r.resource_type, r.platform) for r in engine.resources(task.id)]
    assert sorted(resources) == [("job", "fabric"), ("notebook", "fabric")]
    executions = engine.executions(task.id)
    assert [e.status for e in executions] == ["SUCCESS"]


def test_exit_values_and_failures(fabric: FakeFabric, entra: FakeEntra) -> None:
    c = client(fabric, entra)
    done = c.run_notebook('notebookutils.notebook.exit("42 rows")')
    assert done.exit_value == "42 rows"
    assert done.succeeded
    with pytest.raises(aadap.RemoteError) as caught:
        c.run_notebook('raise ValueError("no such table: sales")')
    assert caught.value.code == "JobInstanceStatusFailed"
    assert "no such table" in str(caught.value)
    assert caught.value.job_status == "Failed"
    for status in ("Cancelled", "Deduped"):
        fabric.script_job(status)
        with pytest.raises(aadap.RemoteError) as ended:
            c.run_notebook(f"print('{status}')")
        assert ended.value.job_status == status
    fabric.script_job("Failed", error_code="SparkSessionFailed", message="no capacity")
    with pytest.raises(aadap.RemoteError, match="no capacity") as scripted:
        c.run_notebook("print('capacity')")
    assert scripted.value.code == "SparkSessionFailed"
    with pytest.raises(aadap.InvalidTypeError):
        c.run_notebook("print(1)", parameters={"when": object()})
    with pytest.raises(aadap.InvalidArgumentError, match="language"):
        c.run_notebook("print(1)", language="cobol")


def test_lakehouse_sql_runs_as_a_sql_notebook(fabric: FakeFabric, entra: FakeEntra) -> None:
    lake = fabric.add_lakehouse("sales")
    for n in range(5):
        fabric.add_table(lake.id, f"t{n}")
    c = client(fabric, entra, lakehouse_id=lake.id)
    run = c.lakehouse_sql("CREATE TABLE daily AS SELECT * FROM t0")
    assert run.status == "Completed"
    code = fabric.notebook_code(run.item_id)
    assert code.language == "sql"
    assert "CREATE TABLE daily" in code.code_cells[-1]
    assert [t["name"] for t in c.list_tables()] == [f"t{n}" for n in range(5)]
    assert c.sql_endpoint()["provisioningStatus"] == "Success"
    assert {lh["displayName"] for lh in c.list_lakehouses()} == {"sales"}
    with pytest.raises(aadap.NotFoundError):
        c.get_lakehouse("00000000-0000-0000-0000-000000000000")
    with pytest.raises(aadap.ConfigurationError, match="lakehouse"):
        client(fabric, entra).list_tables()


def test_jobs_in_general_wait_time_out_and_cancel(fabric: FakeFabric, entra: FakeEntra) -> None:
    pipeline = fabric.add_item("DataPipeline", "copy orders")
    c = client(fabric, entra)
    done = c.run_job(pipeline.id, "Pipeline", {"parameters": {"day": "2026-11-26"}})
    assert done.status == "Completed"
    assert c.get_job_instance(pipeline.id, done.job_instance_id)["status"] == "Completed"
    assert [i["id"] for i in c.list_job_instances(pipeline.id)] == [done.job_instance_id]
    with pytest.raises(aadap.RemoteError) as wrong:
        c.start_job(pipeline.id, "RunNotebook")
    assert wrong.value.code == "InvalidJobType"

    fabric.script_job("Completed", polls=1000)
    slow = c.start_job(pipeline.id, "Pipeline")
    with pytest.raises(aadap.PlatformTimeoutError):
        c.wait_for_job(pipeline.id, slow, timeout=30, cancel_on_timeout=True)
    assert fabric.job(slow).status == "Cancelled"
    c.cancel_job(pipeline.id, slow)  # JobAlreadyCompleted is not an error
    ended = c.wait_for_job(pipeline.id, slow, raise_on_failure=False)
    assert ended.status == "Cancelled"


def test_ctrl_c_cancels_the_notebook_job(fabric: FakeFabric, entra: FakeEntra) -> None:
    import _thread

    fabric.script_job("Completed", polls=100_000)
    fabric.create_lro = "never"  # the notebook at once: the interrupt finds the job polled
    c = aadap.Fabric(
        fabric.workspace_id, tenant_id=entra.tenant, client_id="fabric-app",
        client_secret=SECRET, authority=entra.authority, api_base=fabric.api_url,
        ca_bundle=str(fabric.ca_path),
    )  # fmt: skip
    timer = threading.Timer(1.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    # the cancel is throttled once: its retry is logged (to Python) while the interrupt waits
    fabric.throttle_next(1, retry_after=1, path="/cancel")
    aadap.route_logs_to_python()
    try:
        with pytest.raises(KeyboardInterrupt):
            c.run_notebook("print('forever')", timeout=300)
    finally:
        aadap.route_logs_to_python(False)
    timer.join()
    assert time.monotonic() - started < 10
    assert [job.status for job in fabric.jobs()] == ["Cancelled"]


def test_an_expired_token_is_renewed_once_mid_poll(fabric: FakeFabric, entra: FakeEntra) -> None:
    fabric.job_polls = 4
    c = client(fabric, entra)
    seen = 0

    def expire_once(_instance: dict[str, Any]) -> None:
        nonlocal seen
        seen += 1
        if seen == 1:
            entra.expire_all()  # the next poll is refused 401 TokenExpired

    run = c.run_notebook("print('long')", progress=expire_once)
    assert run.status == "Completed"
    assert len(entra.issued) == 2  # one renewal, and the poll repeated with it


def test_throttling_waits_for_retry_after(fabric: FakeFabric, entra: FakeEntra) -> None:
    for n in range(3):
        fabric.add_notebook(f"nb {n}", ["print(1)"])
    time_ = aadap.ManualTime()
    c = client(fabric, entra, time_)
    fabric.throttle_next(2, retry_after=55, path="/items")
    assert len(c.list_items()) == 3
    assert time_.sleeps[:2] == [55.0, 55.0]
    fabric.throttle_next(10, retry_after=55, path="/items")
    with pytest.raises(aadap.RateLimitError) as caught:
        c.list_items()
    assert caught.value.retry_after == 55.0
    assert caught.value.code == "RequestBlocked"


def test_malformed_answers_and_secrets(
    fabric: FakeFabric, entra: FakeEntra, caplog: pytest.LogCaptureFixture
) -> None:
    c = client(fabric, entra)
    fabric.malformed_next(1, path="/items")
    with pytest.raises(aadap.RemoteError, match="malformed JSON") as caught:
        c.list_items()
    assert caught.value.code == "malformed_response"
    with pytest.raises(aadap.AuthenticationError) as refused:
        client(fabric, entra, client_secret="wrong-secret-value").list_items()
    assert "wrong-secret-value" not in str(refused.value)
    aadap.route_logs_to_python()
    try:
        with caplog.at_level(logging.DEBUG):
            c.run_notebook("print('quiet')")
    finally:
        aadap.route_logs_to_python(False)
    assert SECRET not in caplog.text
    for token in entra.issued:
        assert token.access_token not in caplog.text
    assert SECRET not in repr(c)
    with pytest.raises(aadap.ConfigurationError, match="service principal"):
        aadap.Fabric(fabric.workspace_id)
    with pytest.raises(aadap.ConfigurationError, match="workspace"):
        client(fabric, entra, workspace_id=None).list_items()


def test_from_settings_keeps_production_apart(
    fabric: FakeFabric, entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "AADAP_FABRIC_WORKSPACE_ID": fabric.workspace_id,
        "AADAP_FABRIC_TENANT_ID": entra.tenant,
        "AADAP_FABRIC_CLIENT_ID": "fabric-app",
        "AADAP_FABRIC_CLIENT_SECRET": SECRET,
        "AADAP_FABRIC_API_BASE": fabric.api_url,
        "AADAP_ENTRA_AUTHORITY": entra.authority,
    }
    settings = aadap.Settings.from_env(env, dotenv=None)
    sandbox = aadap.Fabric.from_settings(settings, ca_bundle=str(fabric.ca_path))
    assert sandbox.workspace_id == fabric.workspace_id
    assert sandbox.list_items() == []
    with pytest.raises(aadap.ConfigurationError, match="PRODUCTION_FABRIC_WORKSPACE_ID"):
        aadap.Fabric.from_settings(settings, target="PRODUCTION")


def test_a_failed_operation_and_a_timed_out_run(fabric: FakeFabric, entra: FakeEntra) -> None:
    c = client(fabric, entra)
    fabric.fail_next_operation(error_code="CapacityNotActive", message="the capacity is paused")
    with pytest.raises(aadap.RemoteError, match="the capacity is paused") as caught:
        c.run_notebook("print('never runs')")
    assert caught.value.code == "CapacityNotActive"
    assert fabric.jobs() == []

    fabric.script_job("Completed", polls=1000)
    with pytest.raises(aadap.PlatformTimeoutError, match="was still"):
        c.run_notebook("print('slow')", timeout=60)
    assert [job.status for job in fabric.jobs()] == ["Cancelled"]  # never left behind


def test_an_error_of_the_progress_callback_cancels_the_run(
    fabric: FakeFabric, entra: FakeEntra
) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Callback bug", platform="fabric")
    c = client(fabric, entra, engine=engine)
    fabric.job_polls = 5

    def broken(_instance: dict[str, Any]) -> None:
        raise ValueError("a bug in the caller's callback")

    with pytest.raises(ValueError, match="callback"):
        c.run_notebook("print('watched')", progress=broken, task_id=task.id)
    assert [job.status for job in fabric.jobs()] == ["Cancelled"]  # not left running
    assert [e.status for e in engine.executions(task.id)] == ["FAILED"]  # not left RUNNING


def test_ctrl_c_interrupts_any_call_waiting_on_retries(
    fabric: FakeFabric, entra: FakeEntra
) -> None:
    import _thread

    c = aadap.Fabric(
        fabric.workspace_id, tenant_id=entra.tenant, client_id="fabric-app",
        client_secret=SECRET, authority=entra.authority, api_base=fabric.api_url,
        ca_bundle=str(fabric.ca_path),
    )  # fmt: skip
    fabric.throttle_next(3, retry_after=60, path="/items")  # minutes of waiting
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        c.list_items()
    timer.join()
    assert time.monotonic() - started < 5


def test_a_reserved_name_is_tried_again_each_minute(fabric: FakeFabric, entra: FakeEntra) -> None:
    time_ = aadap.ManualTime()
    c = client(fabric, entra, time_)
    fabric.reserve_name("orders", "Notebook", creates=2)
    assert c.create_item("orders", "Notebook")["displayName"] == "orders"
    assert time_.sleeps == [60.0, 60.0]


def test_cancelling_the_awaiting_task_cancels_the_notebook_job(
    fabric: FakeFabric, entra: FakeEntra
) -> None:
    import asyncio

    fabric.script_job("Completed", polls=100_000)
    fabric.create_lro = "never"
    c = aadap.Fabric(
        fabric.workspace_id, tenant_id=entra.tenant, client_id="fabric-app",
        client_secret=SECRET, authority=entra.authority, api_base=fabric.api_url,
        ca_bundle=str(fabric.ca_path),
    )  # fmt: skip

    async def main() -> None:
        run = asyncio.ensure_future(c.arun_notebook("print('async')", timeout=300))
        while not fabric.jobs():
            await asyncio.sleep(0.05)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())  # returns once the worker thread has ended (the executor joins it)
    assert [job.status for job in fabric.jobs()] == ["Cancelled"]
