"""`GET /tasks`: the task history, newest first, a page at a time (see `engine.history`)."""

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from taskgate_api.engine.history import CURSOR_PATTERN, Cursor, HistoryQuery
from taskgate_api.http.dependencies import CallerDep, ServicesDep
from taskgate_contracts import ServiceUnavailableResponse, TaskPage, TaskState, ValidationErrorResponse
from taskgate_contracts.tasks import NAME_PATTERN

router = APIRouter(prefix="/tasks", tags=["tasks"])

#: Tasks a page holds at most.
MAX_LIMIT = 100
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?")


def _written_as_a_time(value: object) -> object:
    """pydantic would read a number as seconds since 1970; the document promises an ISO 8601 time."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("Input should be a time in ISO 8601 (2026-11-24T10:00:00Z), not a number")
    return value


Moment = Annotated[datetime, BeforeValidator(_written_as_a_time)]


@router.get(
    "",
    operation_id="list_tasks",
    summary="The task history, newest first",
    description=(
        "Tasks submitted within the retention (RESULT_EXPIRES after their last change), newest first. "
        "Filters combine. A client key lists only the tasks it submitted; an admin key (or any caller "
        "when the api takes no keys) lists every task. Pass `next_cursor` as `cursor` for the next page; "
        "tasks submitted meanwhile appear at the top and never shift the pages that follow. With "
        "`status`, a page is looked for among at most 1000 tasks: it may hold fewer than `limit` "
        "(even none) while `next_cursor` says more follow."
    ),
    responses={
        422: {"model": ValidationErrorResponse, "description": "A filter or the cursor is not valid."},
        503: {"model": ServiceUnavailableResponse, "description": "Redis is unreachable."},
    },
)
async def list_tasks(
    services: ServicesDep,
    caller: CallerDep,
    status: Annotated[TaskState | None, Query(description="Only tasks in this state.")] = None,
    task: Annotated[
        str | None, Query(description="Only tasks of this type.", pattern=f"^{NAME_PATTERN.pattern}$")
    ] = None,
    since: Annotated[
        Moment | None, Query(description="Only tasks queued at or after this time (ISO 8601).")
    ] = None,
    until: Annotated[
        Moment | None, Query(description="Only tasks queued at or before this time (ISO 8601).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Tasks in a page at most.")] = 20,
    cursor: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the page before.")
    ] = None,
) -> TaskPage:
    after = None if cursor is None else Cursor.decode(cursor)
    query = HistoryQuery(
        limit=limit,
        status=status,
        task=task,
        key_name=caller.owner,
        since=_aware(since),
        until=_aware(until),
        cursor=after,
    )
    page = await services.history.page(query)
    return TaskPage(
        tasks=page.tasks, next_cursor=None if page.next_cursor is None else page.next_cursor.encode()
    )


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC, as every time the api writes is."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
