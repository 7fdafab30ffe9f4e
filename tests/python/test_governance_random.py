"""Random operation sequences (hypothesis, stateful): after every step the event chains are
valid and the invariants hold, and every refusal observed left exactly one guard.violation."""

from __future__ import annotations

import contextlib
import itertools
from typing import Any, Literal

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

import aadap
from aadap import TaskState

SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)
GUARD_ERRORS = (
    aadap.InvalidTransitionError, aadap.ApprovalError, aadap.TokenBudgetExceededError,
)  # fmt: skip
OPERATIONS = ["read_only", "write", "destructive", "schema_change", "mystery"]
RISKS = ["NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
_PATH = [
    "SUBMITTED", "PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT",
    "AGENT_ASSIGNED", "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION", "VALIDATION_PASSED",
]  # fmt: skip
HAPPY = {
    **{TaskState(a): TaskState(b) for a, b in itertools.pairwise(_PATH)},
    TaskState.APPROVED: TaskState.DEPLOYING, TaskState.DEPLOYING: TaskState.DEPLOYED,
    TaskState.DEPLOYED: TaskState.COMPLETED, TaskState.REJECTED: TaskState.IN_DEVELOPMENT,
}  # fmt: skip


# Text a store can hold: no NUL (refused, tested elsewhere) and no lone surrogates (not
# encodable as UTF-8: the bindings refuse them with a TypeError before the engine sees them).
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
STORABLE = st.characters(blacklist_characters="\x00", blacklist_categories=SURROGATES)


class GovernedStore(RuleBasedStateMachine):
    tasks = Bundle("tasks")
    code = Bundle("code")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.engine = aadap.Engine.open("sqlite://", settings=SETTINGS)
        self.refusals = 0

    def attempt(self, action: Any) -> Any:
        try:
            return action()
        except GUARD_ERRORS:
            self.refusals += 1
            return None

    @rule(target=tasks, environment=st.sampled_from(["SANDBOX", "PRODUCTION"]),
          budget=st.integers(1, 5000))  # fmt: skip
    def create(self, environment: str, budget: int) -> str:
        return self.engine.create_task("random", environment=environment, token_budget=budget).id

    @rule(task=tasks)
    def advance(self, task: str) -> None:
        """One step along the happy path, so random runs reach the governed states."""
        following = HAPPY.get(self.engine.get_task(task).state)
        if following is not None:
            self.attempt(lambda: self.engine.transition(task, following, actor="fuzz"))

    @rule(target=code, task=tasks)
    def prepare(self, task: str) -> str:
        """Straight to VALIDATION_PASSED with validated code, when the task's state allows."""
        for _ in range(len(_PATH)):
            state = self.engine.get_task(task).state
            if state == TaskState.IN_VALIDATION:
                break
            following = HAPPY.get(state)
            if (
                following is None
                or self.attempt(lambda f=following: self.engine.transition(task, f, actor="fuzz"))
                is None
            ):
                break
        artifact = self.engine.add_artifact(task, "generated_code", "c.sql", "SELECT 1").id
        self.engine.record_validation(artifact, True)
        self.attempt(lambda: self.engine.transition(task, "VALIDATION_PASSED", actor="fuzz"))
        return artifact

    @rule(task=tasks, target_state=st.sampled_from(list(TaskState)))
    def transition(self, task: str, target_state: TaskState) -> None:
        self.attempt(lambda: self.engine.transition(task, target_state, actor="fuzz"))

    @rule(target=code, task=tasks, sql=st.sampled_from(["SELECT 1", "DELETE FROM t", "x"]))
    def add_code(self, task: str, sql: str) -> str:
        return self.engine.add_artifact(task, "generated_code", "c.sql", sql).id

    @rule(target=code, parent=code,
          sql=st.text(STORABLE, max_size=20))  # fmt: skip
    def edit(self, parent: str, sql: str) -> str:
        return self.engine.edit_artifact(parent, sql).id

    @rule(artifact=code, passed=st.booleans(), risk=st.sampled_from(RISKS[:3]))
    def validate(self, artifact: str, passed: bool, risk: str) -> None:
        self.engine.record_validation(artifact, passed, risk_level=risk)

    @rule(task=tasks, artifact=code, operation=st.sampled_from(OPERATIONS),
          risk=st.sampled_from(RISKS), target=requests)  # fmt: skip
    def request(self, task: str, artifact: str, operation: str, risk: str) -> str | None:
        def ask() -> str | None:
            try:
                return self.engine.request_approval(
                    task, operation, "pipeline", artifact_id=artifact, risk_level=risk
                ).id
            except aadap.NotFoundError:  # the artifact belongs to another task: input error
                return None

        result: str | None = self.attempt(ask)
        return result

    @rule(request=requests, approve=st.booleans(), who=st.sampled_from(["alice", "pipeline"]))
    def decide(self, request: str | None, approve: bool, who: str) -> None:
        if request is None:
            return
        if approve:
            self.attempt(lambda: self.engine.approve(request, who))
        else:
            self.attempt(lambda: self.engine.reject(request, who))

    @rule(task=tasks, artifact=code)
    def deploy(self, task: str, artifact: str) -> None:
        def go() -> None:
            # another task's artifact is an input error: nothing written, nothing audited
            with contextlib.suppress(aadap.NotFoundError, aadap.InvalidArgumentError):
                self.engine.transition(task, "DEPLOYING", actor="fuzz", artifact_id=artifact)

        self.attempt(go)

    @rule(task=tasks)
    def deploy_approved(self, task: str) -> None:
        """Deploy the code of the task's newest request (refused unless all gates agree)."""
        requests = self.engine.approvals(task)
        artifact = requests[-1].artifact_id if requests else None
        if artifact is not None:
            self.attempt(lambda: self.engine.transition(task, "DEPLOYING", actor="fuzz",
                                                        artifact_id=artifact))  # fmt: skip

    @rule(task=tasks, tokens=st.integers(1, 3000))
    def charge(self, task: str, tokens: int) -> None:
        self.attempt(lambda: self.engine.consume_tokens(task, tokens))

    @invariant()
    def chains_and_invariants_hold(self) -> None:
        engine = self.engine
        violations = [a for a in engine.audit() if a.event_type == "guard.violation"]
        assert len(violations) == self.refusals
        for task in engine.list_tasks(limit=1000):
            assert engine.verify(task.id).ok, engine.verify(task.id).problems
            costs = engine.costs(task.id)
            assert task.tokens_used == sum(c.tokens_in + c.tokens_out for c in costs)
            assert task.tokens_used <= task.token_budget  # INV-04
            history = engine.history(task.id)
            requests = engine._core.approvals(task.id, None, "")
            entered = [e.to_state for e in history]
            assert entered.count(TaskState.APPROVAL_PENDING) == len(requests)  # INV-09
            for state in set(entered) - {"PARSE_FAILED", "DEV_FAILED", "VALIDATION_FAILED",
                                         "REJECTED", "CANCELLED"}:  # fmt: skip
                assert entered.count(state) <= 3  # INV-03
            for i, event in enumerate(history):
                if event.to_state == TaskState.DEPLOYING:  # INV-01/07 held at that moment
                    approved = [e for e in history[:i] if e.to_state == TaskState.APPROVED]
                    assert approved, "deployed without an approval"


TestGovernedStore = GovernedStore.TestCase
TestGovernedStore.settings = settings(
    max_examples=30, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
