"""Paths through the lifecycle shared by the engine tests."""

from __future__ import annotations

import aadap

TO_VALIDATION = [
    "PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT", "AGENT_ASSIGNED",
    "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION",
]  # fmt: skip

# 16 transitions that meet no gate (no artifact, approval or deployment needed): a parse
# retry and two development reworks, ending in CODE_GENERATED.
UNGATED_16 = [
    "PARSING", "PARSE_FAILED", "PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT",
    "AGENT_ASSIGNED", "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION", "VALIDATION_FAILED",
    "IN_DEVELOPMENT", "DEV_FAILED", "IN_DEVELOPMENT", "CODE_GENERATED",
]  # fmt: skip


def walk(engine: aadap.Engine, task_id: str, *states: str) -> aadap.Task:
    task = engine.get_task(task_id)
    for state in states:
        task = engine.transition(task_id, state, actor="tester", expected_version=task.version)
    return task


def validated_code(
    engine: aadap.Engine, task_id: str, sql: str = "SELECT 1 AS one"
) -> aadap.Artifact:
    """Walks the task to VALIDATION_PASSED with a code artifact and its passing validation."""
    walk(engine, task_id, *TO_VALIDATION)
    code = engine.add_artifact(task_id, "generated_code", "job.sql", sql, actor="developer")
    engine.record_validation(code.id, True, risk_level="LOW", summary="clean")
    engine.transition(task_id, "VALIDATION_PASSED", actor="validator")
    return code


def ship(engine: aadap.Engine, task_id: str, operation: str = "read_only") -> aadap.Task:
    """The whole governed path to COMPLETED: code, validation, approval (a human one when
    the matrix asks), deployment of the approved code."""
    code = validated_code(engine, task_id)
    request = engine.request_approval(task_id, operation, "pipeline", artifact_id=code.id)
    if request.status == "PENDING":
        engine.approve(request.id, "reviewer", "looks right")
    engine.transition(task_id, "DEPLOYING", actor="deployer", artifact_id=code.id)
    return walk(engine, task_id, "DEPLOYED", "COMPLETED")
