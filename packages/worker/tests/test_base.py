"""The protocol the base task runs around every handler: arguments, time limits, the result.

Retries are tried on a real broker (`test_real_broker`): a pool process publishes them.
"""

import time
from collections.abc import Callable

import pytest
from celery import Celery, states
from celery.exceptions import SoftTimeLimitExceeded
from celery.result import AsyncResult

from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_contracts.builtin.webhook import WEBHOOK
from taskgate_contracts.testing import TaskTypeTests

from .testing_types import SLEEPY, WRONG_RESULT

Send = Callable[..., AsyncResult]
WAIT = 10


def test_a_handler_must_return_its_result_model(send_to: Send) -> None:
    result = send_to(WRONG_RESULT)

    with pytest.raises(TypeError) as raised:
        result.get(timeout=WAIT)
    assert str(raised.value) == "the handler of taskgate.testing.wrong-result returned dict, not Attempt"


def test_a_task_types_own_time_limit_ends_it(send_to: Send) -> None:
    limit = 2.0  # SLEEPY's TASK_TIME_LIMITS entry in the tests' settings; TASK_TIME_LIMIT is 1 s
    started = time.monotonic()
    result = send_to(SLEEPY, seconds=limit + 3)

    with pytest.raises(SoftTimeLimitExceeded):
        result.get(timeout=WAIT)
    # The pool checks limits once a second when it has no event loop, as on the in-memory broker.
    assert limit <= time.monotonic() - started < limit + 1.5


@pytest.mark.parametrize(
    ("args", "kwargs", "reason"),
    [
        ((), {"delay": 101}, "delay: Input should be less than or equal to 100 (MAX_DELAY)"),
        ((1,), {}, "positional arguments are not accepted"),
    ],
)
def test_the_task_checks_its_arguments_itself(
    app: Celery, args: tuple[object, ...], kwargs: dict[str, object], reason: str
) -> None:
    """Run in this process, where no consumer checked the message first."""
    result = app.tasks[PROCESS.task_name].apply(args=args, kwargs=kwargs)

    assert result.state == states.FAILURE
    assert isinstance(result.result, ValueError)
    assert str(result.result) == f"invalid arguments for taskgate.process: {reason}"


# The checks every task type should pass, on the ones this package hosts (their handlers are declared here).
class TestProcess(TaskTypeTests):
    spec = PROCESS


class TestThumbnail(TaskTypeTests):
    spec = THUMBNAIL


class TestWebhook(TaskTypeTests):
    spec = WEBHOOK
