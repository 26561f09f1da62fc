"""A network namespace of the test's own, joined to this one by a veth pair, whose link can be cut.

The namespace is a host of its own on a private /30 that exists only between the two ends of the pair:
its traffic goes nowhere but to this machine. Cutting the link drops every packet both ways, as a pulled
cable or a partition does — no RST, no FIN: the peers learn of it only from their heartbeats. The
drop is a token bucket smaller than any packet on each end (`tc … tbf`): the kernel it was written on
has no netem (`netem loss 100%` is refused as an unknown qdisc kind) and no classifier actions, while
tbf is built in, and discards what exceeds its bucket silently, as a lossy link would. Everything is
removed afterwards, the namespace and the host's end of the pair.
"""

import ipaddress
import os
import random
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import uuid4

IP = "ip"
#: A one-byte bucket: no packet fits, so every one is dropped.
_DROP_ALL = ("tbf", "rate", "1kbit", "burst", "1", "latency", "1ms")
_PRIVATE = ipaddress.IPv4Address("10.214.0.0")


class NetworkError(RuntimeError):
    """The namespace could not be made or changed; the message has the command and its error."""


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise NetworkError(f"{' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")


def problem() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "a network namespace and a veth pair need root (ip netns add, ip link add)"
    return None


@dataclass(frozen=True)
class Link:
    namespace: str
    #: The host's end of the pair and its address, and the namespace's.
    host_device: str
    host_address: str
    guest_device: str
    guest_address: str

    @property
    def within(self) -> Sequence[str]:
        """The command prefix that runs a process in the namespace."""
        return (IP, "netns", "exec", self.namespace)

    def cut(self) -> None:
        """Drop every packet both ways."""
        run("tc", "qdisc", "add", "dev", self.host_device, "root", *_DROP_ALL)
        run(*self.within, "tc", "qdisc", "add", "dev", self.guest_device, "root", *_DROP_ALL)

    def restore(self) -> None:
        run("tc", "qdisc", "del", "dev", self.host_device, "root")
        run(*self.within, "tc", "qdisc", "del", "dev", self.guest_device, "root")


@contextmanager
def namespace_link() -> Iterator[Link]:
    """A namespace linked to this one; it and the link are removed afterwards, even after a failure."""
    tag = uuid4().hex[:6]
    # One of the /30s of 10.214.0.0/16, picked at random, so runs side by side do not meet.
    network = _PRIVATE + 4 * random.randrange(1 << 14)
    host, guest = network + 1, network + 2
    link = Link(f"tg-{tag}", f"tgh-{tag}", str(host), f"tgg-{tag}", str(guest))
    try:
        run(IP, "netns", "add", link.namespace)
        run(IP, "link", "add", link.host_device, "type", "veth", "peer", "name", link.guest_device)
        run(IP, "link", "set", link.guest_device, "netns", link.namespace)
        run(IP, "addr", "add", f"{host}/30", "dev", link.host_device)
        run(IP, "link", "set", link.host_device, "up")
        run(*link.within, IP, "addr", "add", f"{guest}/30", "dev", link.guest_device)
        run(*link.within, IP, "link", "set", link.guest_device, "up")
        run(*link.within, IP, "link", "set", "lo", "up")
        yield link
    finally:
        # Deleting the namespace deletes its end of the pair, and with it the host's.
        subprocess.run([IP, "netns", "delete", link.namespace], capture_output=True, check=False)
        subprocess.run([IP, "link", "delete", link.host_device], capture_output=True, check=False)
