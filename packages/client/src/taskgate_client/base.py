"""What the sync and async clients both hold: where the api is, how long to wait for it, who is asking."""

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

import httpx

from taskgate_client.calls import DEFAULT_TASK_TIMEOUT, DEFAULT_URL, client_headers

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class ClientBase(ABC, Generic[HttpT, TransportT]):
    """The taskgate api over HTTP.

    `timeout` is how long any answer may take beyond the time the api holds a request on purpose;
    `task_timeout` is the api's TASK_TIMEOUT: how long a task type's run operation may hold a request,
    and the longest `?wait=` the api accepts. `transport` replaces the network, as in httpx.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        task_timeout: float = DEFAULT_TASK_TIMEOUT,
        transport: TransportT | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.task_timeout = task_timeout
        self._http: HttpT = self._connect(client_headers(api_key), transport)

    @abstractmethod
    def _connect(self, headers: dict[str, str], transport: TransportT | None) -> HttpT: ...
