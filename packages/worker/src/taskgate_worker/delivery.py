"""One attempt to post a completion webhook: the destination checked again, its name resolved and each
address checked, the request signed per Standard Webhooks and sent to the checked address.

The api checked the callback URL when the task was submitted, but what a name resolves to can change
since (DNS rebinding), and WEBHOOK_ALLOWED_HOSTS may have. So the name is resolved here, every address is
checked against the policy, and the request connects to the first address that passes — not to the name,
which a second lookup could resolve elsewhere. The `Host` header and, for https, the TLS server name and
the certificate check still use the name. Redirects are not followed (a 3xx is a failed attempt), and no
proxy from the environment is used.
"""

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks import Webhook

from taskgate_contracts.destinations import Destination, DestinationPolicy, IPAddress, ip_address_of
from taskgate_worker.version import __version__

#: `getaddrinfo` as the attempt calls it; tests give their own.
Resolver = Callable[[str, int], Sequence[str]]
USER_AGENT = f"taskgate-worker/{__version__}"


class RefusedError(Exception):
    """The destination is not one WEBHOOK_ALLOWED_HOSTS allows (any more): no attempt will succeed."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to."""

    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to, in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def checked_address(
    policy: DestinationPolicy, destination: Destination, resolver: Resolver = resolve
) -> IPAddress:
    """The address to connect to: the URL's own, or the first its name resolves to that the policy allows.
    Raises RefusedError when the policy allows none, OSError when the name does not resolve."""
    literal = destination.literal
    names = [] if literal is not None else resolver(destination.host, destination.port)
    candidates = [literal] if literal is not None else [_address(name) for name in names]
    problems: list[str] = []
    for address in candidates:
        try:
            policy.check_address(address, destination.port)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        return address
    raise RefusedError(f"{destination.host} resolves to no allowed address: {'; '.join(problems)}")


def _address(name: str) -> IPAddress:
    address = ip_address_of(name)
    if address is None:
        raise OSError(f"the resolver answered {name!r}, not an IP address")
    return address


def signed_headers(secret: str, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of a message."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def post(
    policy: DestinationPolicy,
    url: str,
    body: str,
    headers: dict[str, str],
    timeout: float,
    resolver: Resolver = resolve,
) -> Outcome:
    """Post `body` to `url` once, as this module's docstring says. Raises RefusedError when the policy
    refuses the destination; any other failure is the outcome's error."""
    try:
        destination = policy.destination(url)
    except ValueError as exc:
        raise RefusedError(str(exc)) from None
    try:
        address = checked_address(policy, destination, resolver)
    except OSError as exc:
        return Outcome(None, f"cannot resolve {destination.host}: {exc}")
    target = httpx.URL(url)
    host_header = target.netloc.decode("ascii")
    request_headers = {
        **headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": host_header,
    }
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        try:
            response = client.post(
                target.copy_with(host=str(address)),
                content=body.encode(),
                headers=request_headers,
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if response.is_success:
        return Outcome(response.status_code, None)
    redirect = " (redirects are not followed)" if response.is_redirect else ""
    return Outcome(response.status_code, f"HTTP {response.status_code}{redirect}")
