"""aadap.Databricks against databricks-sdk: SQL results into a pandas DataFrame, same fake,
same run (``.venv/bin/python bench/databricks_sql.py [--rows 1000000] [--links 10]``).

The fake (aadap.testing.FakeDatabricks, plain HTTP on 127.0.0.1) runs in a process of its
own. Measured, best of ``--repeat`` runs each: a ``--rows`` x 8-column result delivered as
EXTERNAL_LINKS (JSON_ARRAY, ``--links`` links) into a typed DataFrame — aadap:
``dbx.sql(..., external_links=True).to_pandas()``; databricks-sdk: ``execute_statement``,
polling ``get_statement``, ``get_statement_result_chunk_n`` per chunk, each link downloaded
with requests, the JSON arrays into a DataFrame and its columns converted to the same types;
then a 100,000-row INLINE result in chunks of 10,000 the same way.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from multiprocessing.connection import Connection
from typing import Any

import aadap
from aadap.testing.databricks import FakeDatabricks

COLUMNS = [
    ("id", "BIGINT"),
    ("customer", "STRING"),
    ("amount", "DOUBLE"),
    ("quantity", "INT"),
    ("day", "DATE"),
    ("at", "TIMESTAMP"),
    ("paid", "BOOLEAN"),
    ("region", "STRING"),
]


def rows(n: int) -> list[tuple[Any, ...]]:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    regions = ["EMEA", "AMER", "APAC"]
    return [
        (i, f"customer-{i % 5000}", i * 0.25, i % 100, date(2026, 1, 1) + timedelta(days=i % 365),
         start + timedelta(seconds=i), i % 2 == 0, regions[i % 3])
        for i in range(n)
    ]  # fmt: skip


def serve(pipe: Connection, big: int, links: int, medium: int) -> None:
    with FakeDatabricks() as fake:
        fake.add_table("FROM big", COLUMNS, rows(big), rows_per_chunk=-(-big // links))
        fake.add_table("FROM medium", COLUMNS, rows(medium), rows_per_chunk=10_000)
        fake.inline_byte_limit = 1 << 30
        pipe.send((fake.url, fake.token, fake.warehouse_id))
        pipe.recv()


def sdk_frame(w: Any, warehouse: str, statement: str, external: bool) -> Any:
    import pandas as pd
    import requests
    from databricks.sdk.service.sql import Disposition, Format, StatementState

    api = w.statement_execution
    response = api.execute_statement(
        statement=statement, warehouse_id=warehouse, wait_timeout="0s",
        disposition=Disposition.EXTERNAL_LINKS if external else Disposition.INLINE,
        format=Format.JSON_ARRAY,
    )  # fmt: skip
    while response.status.state in (StatementState.PENDING, StatementState.RUNNING):
        time.sleep(0.1)
        response = api.get_statement(response.statement_id)
    chunk = response.result
    data: list[list[Any]] = []
    with requests.Session() as session:
        while chunk is not None:
            following = chunk.next_chunk_index
            if external:
                for link in chunk.external_links or []:
                    data.extend(session.get(link.external_link, timeout=600).json())
                    following = link.next_chunk_index  # an external link says what follows
            else:
                data.extend(chunk.data_array or [])
            if following is None:
                break
            chunk = api.get_statement_result_chunk_n(response.statement_id, following)
    names = [c.name for c in response.manifest.schema.columns]
    frame = pd.DataFrame(data, columns=names)
    frame["id"] = frame["id"].astype("int64")
    frame["amount"] = frame["amount"].astype("float64")
    frame["quantity"] = frame["quantity"].astype("int64")
    frame["day"] = pd.to_datetime(frame["day"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["paid"] = frame["paid"] == "true"
    return frame


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=10)
    parser.add_argument("--medium", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    aadap.set_log_level("WARNING")
    from databricks.sdk import WorkspaceClient

    pipe, child = mp.Pipe()
    server = mp.get_context("spawn").Process(
        target=serve, args=(child, args.rows, args.links, args.medium), daemon=True
    )
    server.start()
    url, token, warehouse = pipe.recv()
    ours = aadap.Databricks(url, token=token, warehouse_id=warehouse, environment={})
    sdk = WorkspaceClient(host=url, token=token)

    print(f"databricks-sdk against FakeDatabricks in another process; best of {args.repeat}")
    print("| result | aadap | databricks-sdk | ratio (sdk / aadap) |")
    print("|---|---|---|---|")
    for label, statement, external in (
        (f"{args.rows:,} rows x 8, EXTERNAL_LINKS ({args.links} links)", "SELECT * FROM big", True),
        (f"{args.medium:,} rows x 8, INLINE (chunks of 10,000)", "SELECT * FROM medium", False),
    ):
        a, frame = best(lambda s=statement, e=external: ours.sql(s, external_links=e).to_pandas(),
                        args.repeat)  # fmt: skip
        b, theirs = best(lambda s=statement, e=external: sdk_frame(sdk, warehouse, s, e),
                         args.repeat)  # fmt: skip
        assert len(frame) == len(theirs)
        assert frame["id"].tolist() == theirs["id"].tolist()
        assert frame["at"].tolist() == theirs["at"].tolist()
        print(f"| {label} | {a:.2f} s | {b:.2f} s | {b / a:.1f}x |")
    pipe.send("stop")
    server.join(10)


if __name__ == "__main__":
    main()
