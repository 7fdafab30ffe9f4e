"""Snapshots handed out by the engine: immutable, lazily decoded, comparable, picklable, and
at home in notebooks and pandas."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import pytest

import aadap
from aadap import TaskState
from aadap.snapshots import SnapshotList

SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)


@pytest.fixture
def engine() -> aadap.Engine:
    return aadap.Engine.open("sqlite://", settings=SETTINGS)


def test_fields_are_decoded(engine: aadap.Engine) -> None:
    task = engine.create_task("decode me", metadata={"owner": "ana", "n": [1, 2]}, priority=3)
    assert task.state is TaskState.SUBMITTED
    assert task.metadata == {"owner": "ana", "n": [1, 2]}
    assert task.created_at.tzinfo is timezone.utc
    assert abs((datetime.now(timezone.utc) - task.created_at).total_seconds()) < 60
    assert (task.priority, task.version, task.platform) == (3, 0, None)
    event = engine.history(engine.transition(task.id, "PARSING", actor="a").id)[0]
    assert (event.from_state, event.to_state, event.seq) == (
        TaskState.SUBMITTED, TaskState.PARSING, 1,
    )  # fmt: skip
    assert event.correlation_id is None  # no correlation id in scope: NULL, not ''


def test_snapshots_are_immutable_and_metadata_is_a_copy(engine: aadap.Engine) -> None:
    task = engine.create_task("frozen", metadata={"a": 1})
    with pytest.raises(AttributeError, match="immutable"):
        task.title = "changed"
    with pytest.raises(AttributeError, match="immutable"):
        del task.title
    task.metadata["a"] = 2
    assert task.metadata == {"a": 1}


def test_equality_hash_and_pickle(engine: aadap.Engine) -> None:
    task = engine.create_task("same")
    again = engine.get_task(task.id)
    assert task == again
    assert hash(task) == hash(again)
    assert task != engine.transition(task.id, "PARSING", actor="a")
    assert pickle.loads(pickle.dumps(task)) == task
    assert task != task.id


def test_to_dict_lists_every_field(engine: aadap.Engine) -> None:
    task = engine.create_task("dict")
    fields = task.to_dict()
    assert list(fields)[:4] == ["id", "title", "description", "state"]
    assert fields["state"] is TaskState.SUBMITTED
    assert len(fields) == 16


def test_ids_are_time_ordered_uuids(engine: aadap.Engine) -> None:
    ids = [engine.create_task(f"t{i}").id for i in range(50)]
    assert ids == sorted(ids)
    assert all(i[14] == "7" for i in ids)


def test_lists_render_and_convert(engine: aadap.Engine) -> None:
    task = engine.create_task("<b>escaped</b>")
    for state in ("PARSING", "PARSED"):
        engine.transition(task.id, state, actor="a")
    history = engine.history(task.id)
    assert isinstance(history, SnapshotList)
    assert len(history) == 2
    html = history._repr_html_()
    assert "PARSING" in html
    assert "PARSED" in html
    assert "2 StateTransition rows" in html
    single = engine.get_task(task.id)._repr_html_()
    assert "&lt;b&gt;escaped&lt;/b&gt;" in single
    assert "<b>escaped</b>" not in single
    frame = engine.list_tasks().to_pandas()
    assert list(frame.columns)[:2] == ["id", "title"]
    assert len(frame) == 1
    assert frame.loc[0, "state"] == "PARSED"
    assert SnapshotList()._repr_html_() == "<i>no rows</i>"
    assert len(SnapshotList().to_pandas()) == 0
