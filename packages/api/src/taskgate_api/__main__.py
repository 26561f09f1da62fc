"""`taskgate-api` / `python -m taskgate_api`: serve the api with uvicorn, in one process or several."""

import argparse
import os
import sys

from taskgate_api.server.supervisor import Listen, Supervisor

#: The environment variable that sets the default of --workers (handy in a container).
WORKERS_VARIABLE = "API_WORKERS"


def _workers(value: str) -> int:
    workers = int(value)
    if workers < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return workers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="taskgate-api", description="Serve the taskgate HTTP api.")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")  # noqa: S104
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    parser.add_argument(
        "--backlog",
        type=int,
        default=8192,
        help="connections the kernel queues before accepting them (default: 8192, at most somaxconn)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=os.environ.get(WORKERS_VARIABLE, "1"),
        help=f"api processes sharing the port (default: ${WORKERS_VARIABLE} or 1); about one per core",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="listen with SO_REUSEPORT, so several taskgate-api processes can share the port",
    )
    args = parser.parse_args(argv)
    listen = Listen(args.host, args.port, args.backlog, args.log_level)
    if args.workers > 1:
        # Each api process reads and checks the settings itself; a wrong one stops them all (exit 2).
        sys.exit(Supervisor(listen, args.workers).run())
    # Imported only here, so a supervisor of several api processes never loads the api itself.
    from pydantic import ValidationError

    from taskgate_api import logs
    from taskgate_api.app import create_app
    from taskgate_api.http.documentation import DocumentationError
    from taskgate_api.server.serving import serve
    from taskgate_contracts import RegistryError, describe_settings_error
    from taskgate_contracts.observability import TracingSettingError

    try:
        app = create_app()
    except ValidationError as error:
        parser.exit(2, describe_settings_error(error) + "\n")
    except (RegistryError, DocumentationError, TracingSettingError) as error:
        parser.exit(2, f"{error}\n")
    logs.configure(app.state.settings.chosen_log_format(), args.log_level)
    serve(listen, app, reuse_port=args.reuse_port)


if __name__ == "__main__":
    main()
