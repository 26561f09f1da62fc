"""A small client of RabbitMQ's management HTTP API that turns every failure into one clear sentence.

Any node of a cluster answers for all of it, so the client is given every node's address: it asks the
one that answered last, and the next when that one cannot be reached.
"""

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from taskgate_ops.config import OpsSettings

_TIMEOUT = 5.0


class ManagementError(Exception):
    """The management API could not do what was asked; the message says why and what to do."""


def segment(name: str) -> str:
    """A vhost or entity name as one URL path segment (the default vhost `/` becomes `%2F`)."""
    return quote(name, safe="")


class ManagementApi:
    def __init__(
        self, urls: str | Sequence[str], user: str, password: str, timeout: float = _TIMEOUT
    ) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.user = user
        self._client = httpx.Client(auth=(user, password), timeout=timeout)

    @property
    def url(self) -> str:
        """The node asked first: the one that answered last."""
        return self.urls[0]

    @classmethod
    def from_settings(cls, settings: OpsSettings) -> Self:
        password = settings.rabbitmq_default_pass.get_secret_value()
        return cls(settings.management_urls, settings.rabbitmq_default_user, password)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client.close()

    def get(self, path: str) -> Any:
        """The decoded JSON at `path`, or None when it does not exist."""
        response = self._send("GET", path, missing_ok=True)
        return None if response.status_code == httpx.codes.NOT_FOUND else response.json()

    def put(self, path: str, body: dict[str, Any]) -> None:
        self._send("PUT", path, body)

    def post(self, path: str, body: dict[str, Any]) -> None:
        self._send("POST", path, body)

    def delete(self, path: str) -> None:
        self._send("DELETE", path)

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None = None, missing_ok: bool = False
    ) -> httpx.Response:
        response = self._request(method, path, body)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise ManagementError(
                f"RabbitMQ at {self.url} refused the credentials of user {self.user!r}; "
                "check RABBITMQ_DEFAULT_USER and RABBITMQ_DEFAULT_PASS"
            )
        if response.status_code == httpx.codes.FORBIDDEN:
            raise ManagementError(
                f"RabbitMQ user {self.user!r} may not {method} {path}: it needs the administrator tag "
                "(or run this step as an administrator)"
            )
        if response.is_error and not (missing_ok and response.status_code == httpx.codes.NOT_FOUND):
            raise ManagementError(f"RabbitMQ refused {method} {path}: {_reason(response)}")
        return response

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        failures = []
        for index, url in enumerate(self.urls):
            try:
                response = self._client.request(method, f"{url}/api{path}", json=body)
            except httpx.TransportError as exc:
                failures.append(f"{url} ({exc or type(exc).__name__})")
                continue
            # Asked first from now on; the ones that failed are tried again last.
            self.urls = self.urls[index:] + self.urls[:index]
            return response
        raise ManagementError(
            f"RabbitMQ management API is unreachable at {', '.join(failures)}; is RabbitMQ running with "
            "the management plugin, and are RABBITMQ_HOST (or RABBITMQ_HOSTS) and PORT_WEB right?"
        )


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
    return f"{response.status_code} {body.get('reason') or body}"
