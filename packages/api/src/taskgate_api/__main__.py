"""`taskgate-api` / `python -m taskgate_api`: serve the api with uvicorn."""

import argparse
from types import FrameType

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from taskgate_api.app import create_app, stop_waiting
from taskgate_api.config import ApiSettings
from taskgate_contracts import describe_settings_error


class _Server(uvicorn.Server):
    """uvicorn, but a stop signal first answers every waiting request (`pending`, with its task id),
    so clients are not left waiting up to TASK_TIMEOUT for a process that is going away."""

    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stop_waiting(self._app)
        super().handle_exit(sig, frame)


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
    args = parser.parse_args(argv)
    try:
        settings = ApiSettings()
    except ValidationError as error:
        parser.exit(2, describe_settings_error(error) + "\n")
    app = create_app(settings)
    _Server(
        app,
        uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level, backlog=args.backlog),
    ).run()


if __name__ == "__main__":
    main()
