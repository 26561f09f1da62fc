"""Hooks for the schemathesis run of test_schema_conformance.py (loaded through SCHEMATHESIS_HOOKS).

Reusing one Idempotency-Key with another body is refused with 422 by design; schemathesis cannot know
that a key it drew before is taken, so each generated request gets a fresh key. Key reuse itself is
tested in test_lifecycle.py.

Where a callback URL may point is the deployment's WEBHOOK_ALLOWED_HOSTS, which the schema cannot state: a
generated request with a `callback_url` gets the one destination the fuzzed api allows. Refused
destinations are tested in test_webhooks.py.
"""

import uuid
from typing import Any

import schemathesis

#: The destination the fuzzed api's WEBHOOK_ALLOWED_HOSTS allows (test_schema_conformance.py).
ALLOWED_CALLBACK_URL = "https://hooks.example.com/taskgate"


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if case.query and "callback_url" in case.query:
        case.query["callback_url"] = ALLOWED_CALLBACK_URL
