"""`taskgate-api` / `python -m taskgate_api`: serve the api with uvicorn."""

import argparse

import uvicorn
from pydantic import ValidationError

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings
from taskgate_contracts import describe_settings_error


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="taskgate-api", description="Serve the taskgate HTTP api.")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")  # noqa: S104
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    args = parser.parse_args(argv)
    try:
        settings = ApiSettings()
    except ValidationError as error:
        parser.exit(2, describe_settings_error(error) + "\n")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
