"""The `pending` answer made from bytes is exactly what the model would have made."""

import pytest

from taskgate_api.http.answers import model_response
from taskgate_api.http.running import RETRY_AFTER_PENDING, PendingAnswer
from taskgate_contracts import PendingResponse

TASK = "6f1c0000-0000-0000-0000-000000000001"


@pytest.mark.parametrize("elapsed", [0.0, 0.001, 4.999999999999, 5.0, 5.213456789, 30.001, 123456.789])
def test_pending_answer_is_the_models_json_and_headers(elapsed: float) -> None:
    answer = PendingAnswer(elapsed, TASK)
    expected = model_response(
        PendingResponse(time=elapsed, task_id=TASK),
        202,
        {"Location": f"/tasks/{TASK}", "Retry-After": RETRY_AFTER_PENDING},
    )
    assert answer.status_code == 202
    assert answer.body == expected.body
    assert answer.raw_headers == expected.raw_headers
    assert PendingResponse.model_validate_json(bytes(answer.body)).time == elapsed
