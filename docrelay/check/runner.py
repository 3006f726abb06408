"""Steps, their results, and the loop that runs them in order.

A step is a function of the shared ``State`` that returns the reason it passed, raises
``StepFailed`` with the reason it failed, or ``StepSkipped`` when there is nothing to
check (an empty root has no file to download). A step whose ``needs`` did not all pass
is skipped without being run, naming the step it waited for.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

Status = Literal["pass", "fail", "skip"]
S = TypeVar("S")


class StepFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StepSkipped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Step(Generic[S]):
    key: str
    title: str
    run: Callable[[S], str]
    needs: tuple[str, ...] = ()
    always: bool = False  # clean-up: runs even when the check is interrupted


@dataclass(frozen=True)
class Result:
    key: str
    title: str
    status: Status
    ms: float
    reason: str
    cause: str | None = None  # for a skip: the title of the failed step it waited on


def _unmet(step: Step[S], done: dict[str, Result]) -> tuple[str, str | None] | None:
    """Why ``step`` cannot run, and the failed step behind it; None when it can."""
    for need in step.needs:
        result = done.get(need)
        if result is None:
            return f"needs '{need}', which did not run", None
        if result.status == "fail":
            return f"needs '{result.title}', which failed", result.title
        if result.status == "skip" and result.cause:
            return f"needs '{result.title}'; '{result.cause}' failed", result.cause
        if result.status == "skip":
            return f"needs '{result.title}', which was skipped", None
    return None


def run_one(step: Step[S], state: S, done: dict[str, Result]) -> Result:
    unmet = _unmet(step, done)
    if unmet is not None:
        return Result(step.key, step.title, "skip", 0.0, *unmet)
    status: Status = "pass"
    started = time.perf_counter()
    try:
        reason = step.run(state)
    except StepFailed as failure:
        status, reason = "fail", failure.reason
    except StepSkipped as skipped:
        status, reason = "skip", skipped.reason
    except Exception as error:  # a check reports, it never crashes on what it meets
        status, reason = "fail", f"the check itself failed: {type(error).__name__}: {error}"
    elapsed = (time.perf_counter() - started) * 1000
    return Result(step.key, step.title, status, elapsed, reason)


def run_steps(
    steps: Sequence[Step[S]], state: S, report: Callable[[Result], None] | None = None
) -> list[Result]:
    """Every step in order. Interrupted (Ctrl-C), the steps left that are marked
    ``always`` still run before the interruption goes on."""
    done: dict[str, Result] = {}
    results: list[Result] = []

    def record(result: Result) -> None:
        done[result.key] = result
        results.append(result)
        if report is not None:
            report(result)

    index = 0
    try:
        for index, step in enumerate(steps):  # noqa: B007 - read after an interruption
            record(run_one(step, state, done))
    except BaseException:
        for step in steps[index + 1 :]:
            if step.always:
                record(run_one(step, state, done))
        raise
    return results
