"""`GET /tasks`: the task history, newest first, a page at a time (see `engine.history`)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from taskgate_api.engine.history import Cursor, HistoryQuery
from taskgate_api.http.dependencies import CallerDep, ServicesDep
from taskgate_api.http.errors import validation_error
from taskgate_contracts import ServiceUnavailableResponse, TaskPage, TaskState, ValidationErrorResponse
from taskgate_contracts.tasks import NAME_PATTERN

router = APIRouter(prefix="/tasks", tags=["tasks"])

#: Tasks a page holds at most.
MAX_LIMIT = 100


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
    since: Annotated[datetime | None, Query(description="Only tasks queued at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Only tasks queued at or before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Tasks in a page at most.")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the page before.")
    ] = None,
) -> TaskPage:
    try:
        after = None if cursor is None else Cursor.decode(cursor)
    except ValueError as exc:
        raise validation_error(("query", "cursor"), str(exc), "value_error") from None
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
