"""RabbitMQ nodes (one, or a cluster of them) and a Redis server of a test's or the bench's own, so they
can be killed, stopped and started at will.

The machine's shared RabbitMQ and Redis serve everyone else and are never restarted. These run from the
Debian packages' binaries on free loopback ports, with all their state in a temporary folder, and are
stopped by PID.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from redis import Redis

from testkit.infrastructure import HOST

#: The Debian package's scripts themselves: /usr/sbin/rabbitmq-server would `su` to the rabbitmq user,
#: which could not write to our folder, and reads /etc/rabbitmq/rabbitmq-env.conf's node name.
_RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
_REDIS_SERVER = "redis-server"
_REDIS_SENTINEL = "redis-sentinel"
#: Below Linux's ephemeral range (32768 and up): a port picked there can be taken by some outgoing
#: connection between the check and the server's bind, or while the server is down for a restart.
_PORT_RANGE = (20_000, 32_000)
_BOOT_TIMEOUT = 90.0
_STOP_TIMEOUT = 60.0


class ServerError(RuntimeError):
    """An own server would not start or stop; the message carries its log."""


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports in `_PORT_RANGE` that nothing listens on now."""
    ports: list[int] = []
    candidate = _PORT_RANGE[0] + int(uuid4().int % (_PORT_RANGE[1] - _PORT_RANGE[0] - 100))
    while len(ports) < count:
        with socket.socket() as probe, suppress(OSError):
            probe.bind((HOST, candidate))
            ports.append(candidate)
        candidate += 1
    return ports


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout: float, address: str = HOST
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            probe.settimeout(1.0)
            if probe.connect_ex((address, port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise ServerError(f"nothing listens on {address}:{port}\n{_tail(log)}")
        time.sleep(0.1)


def stop_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process, wait for it, then SIGKILL whatever of its group is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@dataclass
class OwnRedis:
    """A redis-server on a free port. By default it writes every command to its append-only file before
    answering, so a restart loses nothing it acknowledged, as a production Redis with persistence would;
    `durable=False` keeps nothing on disk, as the machine's Redis the bench compares with."""

    folder: Path
    port: int = field(default_factory=lambda: free_ports(1)[0])
    #: When set, clients must authenticate with it (`requirepass`); the URL carries it.
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None
    #: The address it listens on.
    address: str = HOST
    durable: bool = True
    #: More of redis-server's options (`--replicaof host port`).
    options: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}{self.address}:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.folder / "redis.log"

    def start(self) -> None:
        if shutil.which(_REDIS_SERVER) is None:
            raise ServerError(f"{_REDIS_SERVER} is not installed: apt-get install redis-server")
        args = [
            _REDIS_SERVER,
            *("--bind", self.address, "--port", str(self.port), "--dir", str(self.folder)),
            *(("--appendonly", "yes", "--appendfsync", "always") if self.durable else ("--appendonly", "no")),
            *("--save", ""),
            # It listens on one address of the test's own only, which a namespace of the test's may use.
            *("--protected-mode", "no"),
            *(("--requirepass", self.password) if self.password else ()),
            *self.options,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_port(self.port, self.process, self.log, timeout=15.0, address=self.address)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, timeout=_STOP_TIMEOUT)
            self.process = None

    def kill(self) -> None:
        """SIGKILL, as a machine dying would: nothing is flushed, no client is told."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def __enter__(self) -> "OwnRedis":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass
class OwnSentinels:
    """A Redis master, its replica and three sentinels watching it under `master_name` (quorum two), all
    on free ports with their files in `folder`; the failover is quick (a master unanswered for
    `down_after_ms` is down) so a scenario sees one within seconds."""

    folder: Path
    master_name: str = "taskgate"
    down_after_ms: int = 1000
    master: OwnRedis = field(init=False)
    replica: OwnRedis = field(init=False)
    sentinel_ports: list[int] = field(init=False)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        master_port, replica_port, *self.sentinel_ports = free_ports(5)
        # What a production Redis with persistence runs: the append-only file synced once a second.
        persistence = ("--appendfsync", "everysec")
        self.master = OwnRedis(self._subfolder("master"), master_port, options=persistence)
        self.replica = OwnRedis(
            self._subfolder("replica"),
            replica_port,
            options=(*persistence, "--replicaof", HOST, str(master_port)),
        )

    @property
    def addresses(self) -> str:
        """The sentinels, as REDIS_SENTINELS takes them."""
        return ",".join(f"{HOST}:{port}" for port in self.sentinel_ports)

    @property
    def settings(self) -> dict[str, str]:
        """What a service is given to find the master through the sentinels (REDIS_URL's port is not used:
        only its database counts)."""
        return {
            "redis_url": f"redis://{HOST}:1/0",
            "redis_sentinels": self.addresses,
            "redis_sentinel_master": self.master_name,
        }

    def start(self) -> None:
        if shutil.which(_REDIS_SENTINEL) is None:
            raise ServerError(f"{_REDIS_SENTINEL} is not installed: apt-get install redis-sentinel")
        self.master.start()
        self.replica.start()
        self._wait_in_sync()
        for index, port in enumerate(self.sentinel_ports):
            folder = self._subfolder(f"sentinel-{index}")
            config = folder / "sentinel.conf"  # the sentinel rewrites it with what it learns
            config.write_text(
                f"bind {HOST}\nport {port}\ndir {folder}\n"
                f"sentinel monitor {self.master_name} {HOST} {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.master_name} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.master_name} 10000\n"
            )
            log = folder / "sentinel.log"
            with log.open("ab") as output:
                process = subprocess.Popen(
                    [_REDIS_SENTINEL, str(config)],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.processes.append(process)
            wait_for_port(port, process, log, timeout=15.0)

    def _wait_in_sync(self) -> None:
        """Until the replica holds the master's data (its first, full synchronisation takes seconds): a
        failover before that would promote an empty replica."""
        deadline = time.monotonic() + _BOOT_TIMEOUT
        with Redis(host=HOST, port=self.replica.port, socket_timeout=5) as replica:
            while replica.info("replication")["master_link_status"] != "up":
                if time.monotonic() > deadline:
                    raise ServerError(f"the replica did not synchronise\n{_tail(self.replica.log)}")
                time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            stop_group(process, timeout=_STOP_TIMEOUT)
        self.processes.clear()
        self.master.stop()
        self.replica.stop()

    def _subfolder(self, name: str) -> Path:
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder


@dataclass
class OwnRabbitMQ:
    """A RabbitMQ node of its own (node name, ports, database and logs in `folder`), with management.

    Nodes meant to form a cluster share `home`, where the Erlang cookie that lets them talk is kept.
    """

    folder: Path
    node: str = field(default_factory=lambda: f"tgchaos-{uuid4().hex[:8]}@localhost")
    #: With `rabbitmq_prometheus` too, it serves Prometheus's metrics on `prometheus_port`.
    prometheus: bool = False
    process: subprocess.Popen[bytes] | None = None
    amqp_port: int = 0
    management_port: int = 0
    dist_port: int = 0
    prometheus_port: int = 0
    home: Path | None = None
    #: The address AMQP and the management API listen on.
    address: str = HOST
    #: Lines added to rabbitmq.conf (`heartbeat = 5`).
    config: tuple[str, ...] = ()

    @property
    def log(self) -> Path:
        return self.folder / "rabbitmq.log"

    @property
    def management_url(self) -> str:
        return f"http://{self.address}:{self.management_port}"

    @property
    def short_name(self) -> str:
        """The node name without its host, for ledgers and logs."""
        return self.node.partition("@")[0]

    @property
    def amqp_address(self) -> str:
        return f"{self.address}:{self.amqp_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Boot the node; on first boot the ports are chosen, and kept for every restart after."""
        if not (_RABBITMQ_BIN / "rabbitmq-server").exists():
            raise ServerError(f"no RabbitMQ in {_RABBITMQ_BIN}: apt-get install rabbitmq-server")
        if not self.amqp_port:
            self.amqp_port, self.management_port, self.dist_port, self.prometheus_port = free_ports(4)
            self._configure()
        # Left behind by a node that was killed: `rabbitmqctl wait` would watch its dead PID.
        self._pid_file.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(_RABBITMQ_BIN / "rabbitmq-server")],
                env=self._env(),
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        waited = self._ctl("wait", str(self._pid_file), "--timeout", str(int(_BOOT_TIMEOUT)))
        if waited.returncode != 0:
            self.stop()
            raise ServerError(f"RabbitMQ node {self.node} did not boot: {waited.stdout!r}\n{_tail(self.log)}")
        wait_for_port(self.amqp_port, self.process, self.log, timeout=_BOOT_TIMEOUT, address=self.address)

    def stop(self) -> None:
        """Stop the node the way an operator does (`rabbitmqctl stop`); kill it if that fails."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._ctl("stop", str(self._pid_file))
        stop_group(self.process, timeout=_STOP_TIMEOUT)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the node (the Erlang VM and all it started), as a machine dying would."""
        if self.process is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def join(self, seed: "OwnRabbitMQ") -> None:
        """Make this running node a member of `seed`'s cluster (its own data is reset)."""
        for args in (("stop_app",), ("reset",), ("join_cluster", seed.node), ("start_app",)):
            done = self._ctl(*args)
            if done.returncode != 0:
                raise ServerError(f"rabbitmqctl {' '.join(args)} on {self.node}: {done.stdout}{done.stderr}")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def _pid_file(self) -> Path:
        return self.folder / "rabbitmq.pid"

    def _configure(self) -> None:
        (self.folder / "rabbitmq-env.conf").write_text("")
        plugins = "rabbitmq_management, rabbitmq_prometheus" if self.prometheus else "rabbitmq_management"
        (self.folder / "enabled_plugins").write_text(f"[{plugins}].\n")
        lines = [f"management.tcp.ip = {self.address}", f"management.tcp.port = {self.management_port}"]
        if self.prometheus:  # a setting of a plugin that is not enabled stops the node at boot
            lines += [f"prometheus.tcp.ip = {self.address}", f"prometheus.tcp.port = {self.prometheus_port}"]
        (self.folder / "rabbitmq.conf").write_text("\n".join([*lines, *self.config, ""]))

    def _env(self) -> dict[str, str]:
        folder = self.folder
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # The Erlang cookie the node and rabbitmqctl share lives in HOME.
            "HOME": str(self.home or folder),
            "LANG": "C.UTF-8",
            # An empty env file instead of /etc/rabbitmq/rabbitmq-env.conf, which names the shared node.
            "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": self.address,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_PID_FILE": str(self._pid_file),
        }

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args],
            env=self._env(),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=_BOOT_TIMEOUT + 30,
            check=False,
        )


@dataclass
class OwnRabbitCluster:
    """Nodes of one RabbitMQ cluster of the test's own, each with its ports and data, sharing a cookie."""

    nodes: list[OwnRabbitMQ]

    @classmethod
    def in_folder(cls, folder: Path, size: int, config: tuple[str, ...] = ()) -> "OwnRabbitCluster":
        name = f"tgcluster-{uuid4().hex[:6]}"
        home = folder / "home"
        home.mkdir(parents=True)
        nodes = []
        for index in range(1, size + 1):
            (folder / f"node{index}").mkdir()
            node = f"{name}-{index}@localhost"
            nodes.append(OwnRabbitMQ(folder / f"node{index}", node=node, home=home, config=config))
        return cls(nodes)

    def start(self) -> None:
        """Boot every node, then join the others to the first."""
        seed, *others = self.nodes
        seed.start()  # first, so it writes the cookie the others read
        with ThreadPoolExecutor(len(others)) as booting:
            list(booting.map(OwnRabbitMQ.start, others))
        for node in others:
            node.join(seed)

    def remove(self) -> None:
        for node in self.nodes:
            node.remove()

    @property
    def hosts(self) -> list[str]:
        """Every node's AMQP address, in order."""
        return [node.amqp_address for node in self.nodes]

    def hosts_from(self, first: OwnRabbitMQ) -> str:
        """RABBITMQ_HOSTS listing `first`, then the nodes after it: a client that connects to it."""
        at = self.nodes.index(first)
        return ",".join(self.hosts[at:] + self.hosts[:at])

    def management_urls(self) -> list[str]:
        """The management API of each running node."""
        return [node.management_url for node in self.nodes if node.running]

    def by_name(self, name: str) -> OwnRabbitMQ:
        (node,) = (node for node in self.nodes if node.node == name)
        return node
