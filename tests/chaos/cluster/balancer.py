"""HAProxy (Debian's package) in front of api instances: its own config and ports, stopped by PID.

It balances round-robin, health-checks each api's `/readyz`, and sends a request whose connection
fails (the api is gone) to another api, as a production balancer would.
"""

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from testkit.infrastructure import HOST
from testkit.processes import Service
from testkit.servers import ServerError, free_ports, stop_group, wait_for_port

HAPROXY = "haproxy"
#: Seconds between health checks, and failed ones before an api is taken out.
CHECK_INTERVAL = 1.0
CHECK_FALL = 2


@dataclass
class Balancer:
    folder: Path
    apis: list[Service]
    port: int = 0
    stats_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "haproxy.log"

    def config(self) -> str:
        servers = [f"    server {api.name} {api.url.removeprefix('http://')} check" for api in self.apis]
        return "\n".join(
            [
                "defaults",
                "    mode http",
                "    timeout connect 500ms",
                "    timeout client 60s",
                "    timeout server 60s",
                # /readyz pings the workers, which takes about a second.
                "    timeout check 3s",
                # A request whose connection to an api fails is sent to another: nothing reached the
                # dead api, so it is safe even for a POST.
                "    retries 2",
                "    option redispatch",
                f"frontend taskgate\n    bind {HOST}:{self.port}\n    default_backend apis",
                f"frontend stats\n    bind {HOST}:{self.stats_port}\n    stats enable\n    stats uri /stats",
                "backend apis",
                "    balance roundrobin",
                "    option httpchk GET /readyz",
                "    http-check expect status 200",
                f"    default-server inter {int(CHECK_INTERVAL * 1000)}ms fall {CHECK_FALL} rise 1",
                *servers,
                "",
            ]
        )

    def start(self) -> None:
        if shutil.which(HAPROXY) is None:
            raise ServerError("haproxy is not installed: apt-get install haproxy")
        self.port, self.stats_port = free_ports(2)
        config = self.folder / "haproxy.cfg"
        config.write_text(self.config())
        with self.log.open("ab") as log:
            # -db: in the foreground, so its PID is ours to stop.
            self.process = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(self.port, self.process, self.log, timeout=15.0)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, timeout=10.0)
            self.process = None

    def status(self) -> dict[str, str]:
        """Each api's status as HAProxy sees it: UP, DOWN, …"""
        text = httpx.get(f"http://{HOST}:{self.stats_port}/stats;csv", timeout=5).text
        rows = csv.DictReader(io.StringIO(text.removeprefix("# ")))
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "apis"}
