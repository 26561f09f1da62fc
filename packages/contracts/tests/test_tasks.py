"""The process task's signature: what both sides agree on."""

from taskgate_contracts import ALL_TASKS, PROCESS, ProcessArgs, ProcessRequest, ProcessResult
from taskgate_contracts.storage import RESULT_CHANNEL_PATTERN, record_key, result_key


def test_process_signature() -> None:
    assert PROCESS.name == "taskgate.process"
    assert PROCESS.queue == "taskgate"
    assert PROCESS.args is ProcessArgs
    assert PROCESS.result is ProcessResult
    assert PROCESS.hard_time_limit(30) == 30 + PROCESS.hard_limit_grace
    assert PROCESS in ALL_TASKS


def test_request_becomes_arguments_that_survive_json() -> None:
    request = ProcessRequest.model_validate({"delay": 2})
    args = ProcessArgs(delay=request.delay)
    assert ProcessArgs.model_validate(args.model_dump(mode="json")) == args


def test_result_defaults_to_the_seed_message() -> None:
    assert ProcessResult(delay=2).result == "Запрос выполнен успешно"


def test_redis_layout() -> None:
    assert result_key("abc") == "celery-task-meta-abc"
    assert RESULT_CHANNEL_PATTERN == "celery-task-meta-*"
    assert record_key("abc") == "taskgate:task:abc"
