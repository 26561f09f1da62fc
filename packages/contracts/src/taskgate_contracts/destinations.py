"""Where completion webhooks may go: WEBHOOK_ALLOWED_HOSTS, read alike by the api (at submit) and the worker
(at each delivery, once the host name is resolved).

The setting is a comma-separated list of entries, each optionally with `:port` (then only that port):

- a host name, `hooks.example.com`; `*.example.com` for any name under a domain; `*` for any host;
- an IP address or network, `10.1.2.3`, `10.1.0.0/16`, `[::1]`, `[fd00::/8]:8443`.

A destination's host must match an entry. Whatever it is called, the address it is reached at must be a
public one, unless an IP entry lists that address: private, loopback, link-local, multicast, reserved and
unspecified addresses are refused, so a client cannot make taskgate post into its own network. The
entries say nothing of a path: a URL is http or https, to a listed host and port.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The setting, as messages name it.
SETTING = "WEBHOOK_ALLOWED_HOSTS"
_SCHEMES = {"http": 80, "https": 443}
#: The longest callback URL accepted.
MAX_URL_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class AllowedHost:
    """One entry of WEBHOOK_ALLOWED_HOSTS: a host name pattern or an IP network, and maybe a port."""

    #: Lower-case host name, `*.domain` or `*`; empty for a network entry.
    name: str
    network: IPNetwork | None
    port: int | None

    def __str__(self) -> str:
        host = self.name if self.network is None else _bracketed(str(self.network), self.network.version)
        return host if self.port is None else f"{host}:{self.port}"

    def matches(self, host: str, port: int) -> bool:
        """Whether a URL's host (lower case, an address without brackets) and port fit this entry."""
        if self.port is not None and port != self.port:
            return False
        if self.network is not None:
            address = ip_address_of(host)
            return address is not None and address in self.network
        if self.name == "*":
            return True
        if self.name.startswith("*."):
            return host.endswith(self.name[1:])
        return host == self.name

    def lists(self, address: IPAddress, port: int) -> bool:
        """Whether this entry names `address` explicitly (a name, even `*`, never does)."""
        return (
            self.network is not None
            and address.version == self.network.version
            and address in self.network
            and (self.port is None or port == self.port)
        )


def parse_allowed_hosts(text: str) -> tuple[AllowedHost, ...]:
    """The entries of WEBHOOK_ALLOWED_HOSTS; ValueError naming the first entry that is not one."""
    return tuple(_entry(item.strip()) for item in text.split(",") if item.strip())


def _entry(text: str) -> AllowedHost:
    host, port = _host_and_port(text)
    if host is None:
        raise ValueError(f"{text!r} is not a host, a host:port, an IP address or network")
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        network = None
    if network is None:
        name = host.lower().removesuffix(".") if host != "*." else ""
        label = name.removeprefix("*.") if name != "*" else "x"
        if not label or "*" in label or "/" in label or not all(part for part in label.split(".")):
            raise ValueError(f"{text!r} is not a host, a host:port, an IP address or network")
        return AllowedHost(name, None, port)
    return AllowedHost("", network, port)


def _host_and_port(text: str) -> tuple[str | None, int | None]:
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None, None
        return inside, _port(rest[1:]) if rest else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, _port(port)
    return text, None  # a name, an IPv4 address or network, or a bare IPv6 address


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 65536):
        raise ValueError(f"{text!r} is not a port")
    return int(text)


def ip_address_of(host: str) -> IPAddress | None:
    """The address `host` names (an IPv4-mapped IPv6 address as IPv4), or None for a host name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _bracketed(host: str, version: int) -> str:
    return f"[{host}]" if version == 6 else host


@dataclass(frozen=True, slots=True)
class Destination:
    """A callback URL taken apart: where to connect and what to ask for."""

    url: str
    scheme: str
    #: Lower case; an IP address without brackets.
    host: str
    port: int

    @property
    def literal(self) -> IPAddress | None:
        """The host's address when the URL names one rather than a host name."""
        return ip_address_of(self.host)


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """WEBHOOK_ALLOWED_HOSTS, applied."""

    allowed: tuple[AllowedHost, ...]

    def destination(self, url: str) -> Destination:
        """The URL as a destination this policy allows, as far as can be told without resolving its host
        name; ValueError saying what is wrong with it."""
        if len(url) > MAX_URL_LENGTH:
            raise ValueError(f"the callback URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"the callback URL is not a URL: {exc}") from None
        destination = _destination(url, parts, port)
        if not self.allowed:
            raise ValueError(f"no callback URL is allowed: {SETTING} lists no destination")
        if not any(entry.matches(destination.host, destination.port) for entry in self.allowed):
            shown = _bracketed(destination.host, 6 if ":" in destination.host else 4)
            raise ValueError(f"{shown}:{destination.port} is not a destination {SETTING} allows")
        literal = destination.literal
        if literal is not None:
            self.check_address(literal, destination.port)
        return destination

    def check_address(self, address: IPAddress, port: int) -> None:
        """ValueError unless a delivery may connect to `address`: a public one, or one an IP entry
        lists."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        kind = restricted_kind(address)
        if kind is None or any(entry.lists(address, port) for entry in self.allowed):
            return
        raise ValueError(f"{address} is a {kind} address, refused unless {SETTING} lists it")


def _destination(url: str, parts: SplitResult, port: int | None) -> Destination:
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError("the callback URL must be http or https")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("the callback URL names no host")
    return Destination(url, scheme, host, _SCHEMES[scheme] if port is None else port)


def restricted_kind(address: IPAddress) -> str | None:
    """What makes an address one no delivery goes to unless it is listed, or None for a public one."""
    for kind, restricted in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private or not address.is_global),
    ):
        if restricted:
            return kind
    return None
