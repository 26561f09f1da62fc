"""Hooks for the schemathesis run of test_schema_conformance.py (loaded through SCHEMATHESIS_HOOKS).

Reusing one Idempotency-Key with another body is refused with 422 by design; schemathesis cannot know
that a key it drew before is taken, so each generated request gets a fresh key. Key reuse itself is
tested in test_lifecycle.py.
"""

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
