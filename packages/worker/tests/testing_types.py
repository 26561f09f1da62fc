"""Task types only the tests install: a handler that fails on purpose, one that breaks the protocol, one
that overruns, and two that share a queue."""

import time

from pydantic import BaseModel

from taskgate_contracts import RetryPolicy, TaskContext, TaskSpec, TransientError


class FlakyArgs(BaseModel):
    #: The first this many attempts fail.
    failures: int
    #: Whether they fail with a TransientError, or with an error the policy does not retry.
    transient: bool = True


class Attempt(BaseModel):
    attempt: int


def flaky(args: FlakyArgs, context: TaskContext) -> Attempt:
    if context.attempt <= args.failures:
        if args.transient:
            raise TransientError(f"attempt {context.attempt} failed")
        raise RuntimeError(f"attempt {context.attempt} broke")
    return Attempt(attempt=context.attempt)


FLAKY = TaskSpec(
    name="testing.flaky",
    args=FlakyArgs,
    result=Attempt,
    description="Fails its first attempts.",
    # A second at most between two attempts, so the tests wait little.
    retry=RetryPolicy(attempts=3, backoff=1, backoff_max=1),
)


class Nothing(BaseModel):
    pass


def wrong_result(args: Nothing, context: TaskContext) -> Attempt:
    return {"attempt": 1}  # type: ignore[return-value]  # the mistake under test


WRONG_RESULT = TaskSpec(
    name="testing.wrong-result", args=Nothing, result=Attempt, description="Returns a dict, not its model."
)


class SleepArgs(BaseModel):
    seconds: float


def sleep(args: SleepArgs, context: TaskContext) -> Nothing:
    time.sleep(args.seconds)
    return Nothing()


#: Its own limit is long; the tests' TASK_TIME_LIMITS shortens it.
SLEEPY = TaskSpec(
    name="testing.sleepy", args=SleepArgs, result=Nothing, description="Sleeps.", soft_time_limit=60
)

SHARED_QUEUE = "testing.shared"
SHARING_A = TaskSpec(name="testing.a", args=Nothing, result=Nothing, description="A.", queue=SHARED_QUEUE)
SHARING_B = TaskSpec(name="testing.b", args=Nothing, result=Nothing, description="B.", queue=SHARED_QUEUE)


def nothing(args: Nothing, context: TaskContext) -> Nothing:
    return Nothing()
