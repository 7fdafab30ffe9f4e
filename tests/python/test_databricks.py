"""aadap.Databricks against FakeDatabricks (real HTTP on loopback): statements, chunks,
external links, typed values, parameters, cancellation, credential resolution, token-cache
refresh, throttling, malformed answers, secrets, execution records."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aadap
from aadap.testing.databricks import FakeDatabricks


@pytest.fixture
def dbx() -> Iterator[FakeDatabricks]:
    with FakeDatabricks() as fake:
        yield fake


def client(fake: FakeDatabricks, tmp_path: Path | None = None, **options: Any) -> aadap.Databricks:
    options.setdefault("token", fake.token)
    options.setdefault("warehouse_id", fake.warehouse_id)
    options.setdefault("environment", {})
    options.setdefault("time", aadap.ManualTime())
    return aadap.Databricks(fake.url, home=tmp_path or "/nonexistent", **options)


TYPED = [
    ("i", "INT"),
    ("b", "BIGINT"),
    ("d", "DOUBLE"),
    ("m", "DECIMAL(10,2)"),
    ("ok", "BOOLEAN"),
    ("day", "DATE"),
    ("at", "TIMESTAMP"),
    ("s", "STRING"),
    ("tags", "ARRAY<STRING>"),
    ("attrs", "MAP<STRING,INT>"),
    ("point", "STRUCT<x: INT, y: INT>"),
]
ROW = (
    7,
    2**40,
    1.25,
    Decimal("12.34"),
    True,
    dt.date(2024, 5, 1),
    dt.datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=dt.timezone.utc),
    "héllo",
    ["a", "b"],
    {"k": 1},
    {"x": 1, "y": 2},
)


def test_typed_values_and_nulls(dbx: FakeDatabricks) -> None:
    dbx.add_table("FROM typed", TYPED, [ROW, (None,) * len(TYPED)])
    result = client(dbx).sql("SELECT * FROM typed")
    assert result.columns == [name for name, _ in TYPED]
    assert result.rows[0] == ROW
    assert result.rows[1] == (None,) * len(TYPED)
    assert len(result) == 2
    assert result.platform == "databricks"
    assert result.statement_id
    frame = result.to_pandas()
    assert str(frame["i"].dtype) == "Int64"
    assert str(frame["ok"].dtype) == "boolean"
    assert str(frame["at"].dtype).startswith("datetime64")
    assert frame["at"].dt.tz is not None
    assert frame["m"][0] == Decimal("12.34")
    table = result.to_arrow()
    assert table.num_rows == 2
    assert table.column("b").to_pylist() == [2**40, None]


def test_chunks_are_reassembled_in_order(dbx: FakeDatabricks) -> None:
    dbx.add_table(
        "FROM numbers", [("n", "BIGINT")], [(n,) for n in range(2500)], rows_per_chunk=300
    )
    seen: list[aadap.databricks.SqlProgress] = []
    result = client(dbx).sql("SELECT n FROM numbers", progress=seen.append)
    assert [r[0] for r in result.rows] == list(range(2500))
    assert dbx.last_statement.chunk_requests == 8  # chunk 0 came with the answer
    assert seen[-1].chunks_fetched == seen[-1].chunk_count == 9


def test_external_links_are_downloaded_without_the_token(dbx: FakeDatabricks) -> None:
    dbx.add_table("FROM big", [("n", "BIGINT"), ("s", "STRING")],
                  [(n, f"row {n}") for n in range(5000)], rows_per_chunk=1000)  # fmt: skip
    result = client(dbx).sql("SELECT * FROM big", external_links=True)
    assert len(result) == 5000
    assert result.rows[4999] == (4999, "row 4999")
    assert dbx.last_statement.disposition == "EXTERNAL_LINKS"
    assert dbx.last_statement.downloads == 5  # the fake refuses downloads with Authorization


def test_parameters_travel_as_values_never_spliced(dbx: FakeDatabricks) -> None:
    def lookup(params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(params["name"], params["n"], params["when"], params["nothing"])]

    dbx.add_table(
        r"WHERE name = :name",
        [("name", "STRING"), ("n", "BIGINT"), ("when", "DATE"), ("nothing", "STRING")],
        lookup,
    )
    evil = "x'; DROP TABLE users; --"
    statement = "SELECT * FROM t WHERE name = :name AND n = :n AND d = :when AND z = :nothing"
    result = client(dbx).sql(
        statement, {"name": evil, "n": 5, "when": dt.date(2024, 1, 2), "nothing": None}
    )
    assert result.rows == [(evil, 5, dt.date(2024, 1, 2), None)]
    sent = dbx.last_statement
    assert sent.statement == statement
    assert sent.parameter_values == {"name": evil, "n": "5", "when": "2024-01-02", "nothing": None}
    assert {p.name: p.type for p in sent.parameters}["n"] == "BIGINT"
    with pytest.raises(aadap.InvalidTypeError):
        client(dbx).sql(statement, {"name": object()})


def test_a_failed_statement_carries_sql_state(dbx: FakeDatabricks) -> None:
    dbx.fail_statement("^import ", error_code="BAD_REQUEST",
                       message="[PARSE_SYNTAX_ERROR] Syntax error at or near 'import'.",
                       sql_state="42601")  # fmt: skip
    with pytest.raises(aadap.RemoteError) as caught:
        client(dbx).sql("import os")
    assert caught.value.sql_state == "42601"
    assert caught.value.code == "BAD_REQUEST"
    assert "PARSE_SYNTAX_ERROR" in str(caught.value)


def test_a_timeout_cancels_the_statement(dbx: FakeDatabricks) -> None:
    dbx.add_table("FROM slow", [("n", "INT")], [(1,)], running_seconds=3600)
    time_ = aadap.ManualTime()
    with pytest.raises(aadap.PlatformTimeoutError):
        client(dbx, time=time_).sql("SELECT n FROM slow", timeout=30)
    info = dbx.last_statement
    assert info.cancels == 1
    assert info.canceled_by == "client"
    assert sum(time_.sleeps) <= 30.0001
    # submitted without waiting, so the id to cancel is known at once
    assert info.wait_timeout == "0s"
    assert info.on_wait_timeout == "CONTINUE"


def test_ctrl_c_cancels_the_statement(dbx: FakeDatabricks) -> None:
    import _thread

    dbx.add_table("FROM slow", [("n", "INT")], [(1,)], running_seconds=3600)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        client(dbx, time=None).sql("SELECT n FROM slow", timeout=300)
    timer.join()
    assert time.monotonic() - started < 3
    assert dbx.last_statement.cancels == 1


def test_throttling_is_retried_on_the_servers_delay(dbx: FakeDatabricks) -> None:
    dbx.add_table("SELECT 1", [("one", "INT")], [(1,)])
    time_ = aadap.ManualTime()
    dbx.throttle_next(2, retry_after=3)
    assert client(dbx, time=time_).sql("SELECT 1").rows == [(1,)]
    assert time_.sleeps[:2] == [3.0, 3.0]


def test_malformed_answers_and_refused_tokens_are_typed(dbx: FakeDatabricks) -> None:
    dbx.add_table("SELECT 1", [("one", "INT")], [(1,)])
    dbx.malformed_next(1)
    with pytest.raises(aadap.RemoteError, match="malformed JSON"):
        client(dbx).sql("SELECT 1")
    with pytest.raises(aadap.AuthenticationError, match="Invalid access token"):
        client(dbx, token="dapi-wrong-0000").sql("SELECT 1")
    with pytest.raises(aadap.NotFoundError):
        client(dbx, warehouse_id="nope").sql("SELECT 1")
    with pytest.raises(aadap.InvalidArgumentError):
        client(dbx).sql("   ")


def test_secrets_stay_out_of_errors_logs_and_reprs(
    dbx: FakeDatabricks, caplog: pytest.LogCaptureFixture
) -> None:
    dbx.add_table("SELECT 1", [("one", "INT")], [(1,)])
    previous = aadap.get_log_level()
    aadap.route_logs_to_python()
    aadap.set_log_level("DEBUG")
    try:
        with caplog.at_level(logging.DEBUG):
            c = client(dbx)
            c.sql("SELECT 1")
            dbx.fail_next(1, status=500, body={"error_code": "X", "message": dbx.token})
            with pytest.raises(aadap.RemoteError) as caught:
                c.sql("SELECT 1")
    finally:
        aadap.set_log_level(previous)
        aadap.route_logs_to_python(False)
    assert dbx.token not in caplog.text
    assert "http.exchange" in caplog.text
    assert dbx.token not in str(caught.value)
    assert dbx.token not in repr(c)


def test_credentials_from_files_and_environment(dbx: FakeDatabricks, tmp_path: Path) -> None:
    dbx.add_table("SELECT 1", [("one", "INT")], [(1,)])
    dbx.write_databrickscfg(tmp_path / ".databrickscfg", profile="dev")
    dbx.write_databrickscfg(tmp_path / ".databrickscfg", profile="sp", auth_type="oauth-m2m")
    env = {"DATABRICKS_CONFIG_PROFILE": "dev"}
    c = aadap.Databricks(home=tmp_path, environment=env)
    assert (c.host, c.warehouse_id, c.auth_method) == (dbx.url, dbx.warehouse_id, "pat")
    assert c.sql("SELECT 1").rows == [(1,)]
    m2m = aadap.Databricks(home=tmp_path, environment={}, profile="sp")
    assert m2m.auth_method == "oauth-m2m"
    assert m2m.sql("SELECT 1").rows == [(1,)]
    with pytest.raises(aadap.ConfigurationError, match="tried"):
        aadap.Databricks(dbx.url, home=tmp_path / "empty", environment={})
    env_m2m = {"DATABRICKS_CLIENT_ID": dbx.client_id, "DATABRICKS_CLIENT_SECRET": dbx.client_secret}
    from_env = aadap.Databricks(
        dbx.url, home=tmp_path / "empty", environment=env_m2m, warehouse_id=dbx.warehouse_id
    )
    assert from_env.auth_method == "oauth-m2m"
    assert from_env.sql("SELECT 1").rows == [(1,)]


def test_the_cli_token_cache_is_refreshed_and_written_back(
    dbx: FakeDatabricks, tmp_path: Path
) -> None:
    dbx.add_table("SELECT 1", [("one", "INT")], [(1,)])
    cache = dbx.write_token_cache(tmp_path / ".databricks" / "token-cache.json", expired=True)
    before = json.loads(cache.read_text())["tokens"][dbx.url]["access_token"]
    c = aadap.Databricks(dbx.url, home=tmp_path, environment={}, warehouse_id=dbx.warehouse_id)
    assert c.auth_method == "databricks-cli"
    assert c.sql("SELECT 1").rows == [(1,)]
    after = json.loads(cache.read_text())["tokens"][dbx.url]
    assert after["access_token"] != before
    assert (cache.stat().st_mode & 0o777) == 0o600
    dbx.revoke_refresh_tokens()
    dbx.expire_access_tokens()
    with pytest.raises(aadap.AuthenticationError, match=r"Refresh token is invalid|invalid_grant"):
        c.sql("SELECT 1")


def test_executions_of_a_task_are_recorded(dbx: FakeDatabricks) -> None:
    dbx.add_table("SELECT 1", [("one", "INT")], [(1,)])
    dbx.fail_statement("SELECT 2", error_code="BAD_REQUEST", message="no", sql_state="42000")
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Count", platform="databricks")
    c = client(dbx, engine=engine)
    c.sql("SELECT 1", task_id=task.id)
    with pytest.raises(aadap.RemoteError):
        c.sql("SELECT 2", task_id=task.id)
    runs = engine.executions(task.id)
    assert [r.status for r in runs] == ["SUCCESS", "FAILED"]
    assert runs[0].platform == "databricks"


def test_production_targets_never_fall_back_to_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AADAP_DATABRICKS_HOST", "https://sandbox.example")
    aadap.get_settings.cache_clear()
    try:
        with pytest.raises(aadap.ConfigurationError, match="PRODUCTION"):
            aadap.Databricks.from_settings(target="PRODUCTION")
    finally:
        monkeypatch.undo()
        aadap.get_settings.cache_clear()


def test_the_sdk_sees_the_same_rows(dbx: FakeDatabricks) -> None:
    from databricks.sdk import WorkspaceClient

    dbx.add_table("FROM typed", TYPED, [ROW, (None,) * len(TYPED)], rows_per_chunk=1)
    ours = client(dbx).sql("SELECT * FROM typed")
    sdk = WorkspaceClient(host=dbx.url, token=dbx.token)
    api = sdk.statement_execution
    answer = api.execute_statement(statement="SELECT * FROM typed", warehouse_id=dbx.warehouse_id)
    statement_id = answer.statement_id
    assert statement_id is not None
    while answer.status is not None and str(answer.status.state) in (
        "StatementState.PENDING",
        "StatementState.RUNNING",
    ):
        time.sleep(0.05)
        answer = api.get_statement(statement_id)
    assert answer.result is not None
    texts = list(answer.result.data_array or [])
    nxt = answer.result.next_chunk_index
    while nxt is not None:
        chunk = api.get_statement_result_chunk_n(statement_id, nxt)
        texts.extend(chunk.data_array or [])
        nxt = chunk.next_chunk_index
    # the SDK leaves every value as the wire's text; aadap's typed rows read back the same
    assert len(texts) == len(ours) == 2
    assert texts[1] == [None] * len(TYPED)
    assert [int(texts[0][0]), int(texts[0][1]), float(texts[0][2])] == list(ours.rows[0][:3])
    assert Decimal(texts[0][3]) == ours.rows[0][3]
    assert json.loads(texts[0][8]) == ours.rows[0][8]
    assert "<table" in ours._repr_html_()
    assert "2 of 2 rows" in ours._repr_html_()


def test_progress_true_shows_a_tqdm_bar(
    dbx: FakeDatabricks, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    dbx.add_table("FROM numbers", [("n", "BIGINT")], [(n,) for n in range(50)], rows_per_chunk=10)
    assert len(client(dbx).sql("SELECT n FROM numbers", progress=True)) == 50
    assert "5/5" in capsys.readouterr().err


def test_python_on_a_cluster_and_the_context_is_always_destroyed(dbx: FakeDatabricks) -> None:
    on_cluster = client(dbx, cluster_id=dbx.cluster_id)
    out = on_cluster.run_python('print("hello", 2 + 2)')
    assert str(out) == "hello 4"
    assert out.result_type == "text"
    assert out.table is None
    dbx.add_command("spark.range", table=([("id", "long")], [(0,), (1,)]))
    table = on_cluster.run_python("display(spark.range(2))")
    assert table.table is not None
    assert table.table.rows == [(0,), (1,)]
    with pytest.raises(aadap.RemoteError) as caught:
        on_cluster.run_python('raise ValueError("bad input")')
    assert "bad input" in str(caught.value)
    assert "ValueError" in caught.value.cause
    with pytest.raises(aadap.ConfigurationError, match="never sent to a SQL warehouse"):
        client(dbx).run_python("print(1)")
    assert dbx.live_contexts == []
    assert dbx.contexts_created == dbx.contexts_destroyed == 3


def test_jobs_submit_wait_output_and_failures(dbx: FakeDatabricks) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Nightly load", platform="databricks")
    c = client(dbx, engine=engine)
    job_id = dbx.add_job(name="nightly", notebook_result="42 rows", running_polls=2)
    run_id = c.run_now(job_id, {"day": "2026-11-26"}, idempotency_token="t-1", task_id=task.id)
    assert c.run_now(job_id, {"day": "2026-11-26"}, idempotency_token="t-1") == run_id
    seen: list[str] = []
    run = c.wait_for_run(run_id, progress=lambda r: seen.append(r["state"]["life_cycle_state"]))
    assert run["state"]["result_state"] == "SUCCESS"
    assert seen[-1] == "TERMINATED"
    assert c.get_run_output(run["tasks"][0]["run_id"])["notebook_output"]["result"] == "42 rows"
    assert [r.resource_type for r in engine.resources(task.id)] == ["job"]
    failing = dbx.add_job(name="broken", result_state="FAILED", state_message="boom")
    with pytest.raises(aadap.RemoteError, match="FAILED") as caught:
        c.wait_for_run(c.run_now(failing))
    assert caught.value.code == "FAILED"
    assert {j["job_id"] for j in c.list_jobs()} >= {job_id, failing}
    one_time = c.submit_run([{"task_key": "main", "existing_cluster_id": dbx.cluster_id,
                              "notebook_task": {"notebook_path": "/Users/x/nb"}}])  # fmt: skip
    assert c.wait_for_run(one_time)["state"]["life_cycle_state"] == "TERMINATED"


def test_ctrl_c_destroys_the_context_and_cancels_the_run(dbx: FakeDatabricks) -> None:
    import _thread

    dbx.add_command("slow", text="done", running_polls=100_000)
    on_cluster = client(dbx, cluster_id=dbx.cluster_id, time=None)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        on_cluster.run_python("slow()", timeout=300)
    timer.join()
    assert dbx.live_contexts == []
    assert dbx.contexts_destroyed == dbx.contexts_created == 1

    job_id = dbx.add_job(name="long", running_polls=100_000)
    run_id = on_cluster.run_now(job_id)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        on_cluster.wait_for_run(run_id, timeout=300)
    timer.join()
    assert dbx.run(run_id).cancels == 1


def test_workspace_notebooks_round_trip(dbx: FakeDatabricks) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Publish a notebook", platform="databricks")
    c = client(dbx, engine=engine)
    home = f"/Users/{dbx.user_name}/aadap"
    c.make_workspace_dirs(home)
    assert c.list_workspace(home) == []
    c.import_notebook(f"{home}/load", "print('héllo')\n", task_id=task.id)
    assert "print('héllo')" in c.export_notebook(f"{home}/load")
    assert dbx.workspace_object(f"{home}/load").language == "PYTHON"
    with pytest.raises(aadap.RemoteError) as caught:
        c.import_notebook(f"{home}/load", "print(2)")
    assert caught.value.code == "RESOURCE_ALREADY_EXISTS"
    c.import_notebook(f"{home}/load", "print(2)", overwrite=True)
    assert "print(2)" in c.export_notebook(f"{home}/load")

    ipynb = json.dumps({"cells": [{"cell_type": "code", "source": ["x = 1"], "metadata": {},
                                   "outputs": [], "execution_count": None}],
                        "metadata": {"language_info": {"name": "python"}},
                        "nbformat": 4, "nbformat_minor": 5})  # fmt: skip
    c.import_notebook(f"{home}/explore", ipynb, format="JUPYTER")
    exported = json.loads(c.export_notebook(f"{home}/explore", format="JUPYTER"))
    assert "x = 1" in "".join(exported["cells"][0]["source"])
    listed = {o["path"]: o["object_type"] for o in c.list_workspace(home)}
    assert listed == {f"{home}/load": "NOTEBOOK", f"{home}/explore": "NOTEBOOK"}
    assert c.workspace_status(f"{home}/load")["language"] == "PYTHON"
    assert [(r.resource_type, r.platform_resource_id) for r in engine.resources(task.id)] == [
        ("notebook", f"{home}/load")
    ]

    with pytest.raises(aadap.RemoteError) as caught:
        c.delete_workspace_object(home)
    assert caught.value.code == "DIRECTORY_NOT_EMPTY"
    c.delete_workspace_object(home, recursive=True)
    with pytest.raises(aadap.NotFoundError):
        c.list_workspace(home)
    with pytest.raises(aadap.InvalidArgumentError, match="absolute"):
        c.export_notebook("relative/path")
    with pytest.raises(aadap.InvalidTypeError):
        c.import_notebook(f"{home}/x", 42)  # type: ignore[arg-type]


def test_pipelines_update_and_wait(dbx: FakeDatabricks) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Refresh sales", platform="databricks")
    c = client(dbx, engine=engine)
    ids = [dbx.add_pipeline(name=f"sales {n}") for n in range(30)]  # more than one page
    failing = dbx.add_pipeline(name="broken", final="FAILED")
    assert {p["pipeline_id"] for p in c.list_pipelines()} == {*ids, failing}
    assert [p["name"] for p in c.list_pipelines(filter="name LIKE 'broken'")] == ["broken"]
    assert c.get_pipeline(ids[0])["name"] == "sales 0"

    update_id = c.start_update(ids[0], refresh_selection=["orders"], task_id=task.id)
    with pytest.raises(aadap.RemoteError) as caught:
        c.start_update(ids[0])
    assert caught.value.code == "RESOURCE_CONFLICT"
    seen: list[str] = []
    done = c.wait_for_update(ids[0], update_id, progress=lambda u: seen.append(u["state"]))
    assert done["state"] == "COMPLETED"
    assert seen[0] != "COMPLETED"
    assert seen[-1] == "COMPLETED"
    assert c.get_update(ids[0], update_id)["update_id"] == update_id
    assert dbx.pipeline_update(update_id).refresh_selection == ("orders",)
    assert [r.resource_type for r in engine.resources(task.id)] == ["pipeline"]

    broken_update = c.start_update(failing)
    with pytest.raises(aadap.RemoteError) as caught:
        c.wait_for_update(failing, broken_update)
    assert caught.value.code == "FAILED"

    slow = dbx.add_pipeline(name="slow", polls_per_state=100_000)
    slow_update = c.start_update(slow)
    with pytest.raises(aadap.PlatformTimeoutError):
        c.wait_for_update(slow, slow_update, timeout=30, cancel_on_timeout=True)
    assert dbx.pipeline(slow).stops == 1
    with pytest.raises(aadap.NotFoundError):
        c.get_pipeline("no-such-pipeline")


def test_unity_catalog_listings_follow_every_page(dbx: FakeDatabricks) -> None:
    dbx.uc_page_size = 3
    dbx.uc_empty_pages = True
    for n in range(7):
        dbx.add_table_info(f"lake.sales.t{n}", [("id", "BIGINT"), ("amount", "DECIMAL(10,2)")])
    c = client(dbx)
    assert "lake" in {catalog["name"] for catalog in c.list_catalogs()}
    assert [s["name"] for s in c.list_schemas("lake")] == ["sales"]
    tables = c.list_tables("lake", "sales")
    assert [t["name"] for t in tables] == [f"t{n}" for n in range(7)]
    table = c.get_table("lake.sales.t3")
    assert [col["name"] for col in table["columns"]] == ["id", "amount"]
    with pytest.raises(aadap.NotFoundError):
        c.get_table("lake.sales.missing")
    with pytest.raises(aadap.NotFoundError):
        c.list_tables("lake", "nowhere")


def test_listings_survive_throttling_and_refuse_malformed_answers(dbx: FakeDatabricks) -> None:
    dbx.add_pipeline(name="p")
    time_ = aadap.ManualTime()
    c = client(dbx, time=time_)
    dbx.throttle_next(1, retry_after=7, path="/api/2.0/pipelines")
    assert [p["name"] for p in c.list_pipelines()] == ["p"]
    assert 7.0 in time_.sleeps
    dbx.malformed_next(1, path="/api/2.1/unity-catalog/catalogs")
    with pytest.raises(aadap.RemoteError, match="malformed JSON"):
        c.list_catalogs()


def test_the_sdk_and_aadap_see_the_same_resources(dbx: FakeDatabricks) -> None:
    import base64

    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.workspace import ExportFormat

    ours = client(dbx, cluster_id=dbx.cluster_id)
    sdk = WorkspaceClient(host=dbx.url, token=dbx.token)
    home = f"/Users/{dbx.user_name}"
    ours.import_notebook(f"{home}/nb", "print(1)\n")
    assert {o.path for o in sdk.workspace.list(home)} == {
        o["path"] for o in ours.list_workspace(home)
    }
    exported = sdk.workspace.export(f"{home}/nb", format=ExportFormat.SOURCE).content or ""
    assert base64.b64decode(exported).decode() == ours.export_notebook(f"{home}/nb")

    for n in range(3):
        dbx.add_pipeline(name=f"p{n}")
    assert sorted(p.pipeline_id or "" for p in sdk.pipelines.list_pipelines()) == sorted(
        p["pipeline_id"] for p in ours.list_pipelines()
    )
    dbx.uc_page_size = 2
    for n in range(5):
        dbx.add_table_info(f"main.default.t{n}", [("id", "INT")])
    assert [t.full_name for t in sdk.tables.list(catalog_name="main", schema_name="default")] == [
        t["full_name"] for t in ours.list_tables("main", "default")
    ]

    job_id = dbx.add_job(name="same", notebook_result="ok")
    run = ours.wait_for_run(ours.run_now(job_id))
    sdk_run = sdk.jobs.get_run(run["run_id"])
    assert sdk_run.state is not None
    assert sdk_run.state.result_state is not None
    assert sdk_run.state.result_state.value == run["state"]["result_state"] == "SUCCESS"
    assert str(ours.run_python("print(6 * 7)")) == "42"
    assert dbx.live_contexts == []


@pytest.mark.parametrize(
    ("result_state", "code"),
    [("FAILED", "FAILED"), ("TIMEDOUT", "TIMEDOUT"), ("CANCELED", "CANCELED"),
     ("SKIPPED", "SKIPPED"), ("INTERNAL_ERROR", "INTERNAL_ERROR"),
     ("SUCCESS_WITH_FAILURES", "SUCCESS_WITH_FAILURES")],
)  # fmt: skip
def test_every_unsuccessful_end_of_a_run_raises(
    dbx: FakeDatabricks, result_state: str, code: str
) -> None:
    c = client(dbx)
    run_id = c.run_now(dbx.add_job(name=result_state, result_state=result_state, running_polls=1))
    with pytest.raises(aadap.RemoteError) as caught:
        c.wait_for_run(run_id)
    assert caught.value.code == code
    ended = c.wait_for_run(run_id, raise_on_failure=False)
    assert ended["state"]["life_cycle_state"] in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}


def test_cancelling_the_awaiting_task_cancels_the_statement(dbx: FakeDatabricks) -> None:
    import asyncio

    dbx.add_table("FROM slow", [("n", "INT")], [(1,)], running_seconds=3600)
    c = client(dbx, time=None)

    async def main() -> None:
        statement = asyncio.ensure_future(c.asql("SELECT n FROM slow", timeout=300))
        while not dbx.statements:
            await asyncio.sleep(0.05)
        statement.cancel()
        with pytest.raises(asyncio.CancelledError):
            await statement

    asyncio.run(main())  # returns once the worker thread has ended
    assert dbx.last_statement.cancels == 1
