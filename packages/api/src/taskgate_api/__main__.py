"""`taskgate-api` / `python -m taskgate_api`: serve the api with uvicorn, in one process or several.

The command line is read without loading the api (pydantic, FastAPI, uvicorn): `--workers N` makes this
process a supervisor of a few MB, and each of its N api processes loads the api for itself.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from taskgate_api.environment import setting
from taskgate_api.server.prefork import Listen, PreforkSupervisor
from taskgate_api.version import __version__

# The supervisor does without the typing module (half a MB): its names are for the type checker only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

#: The setting that gives --workers its default (environment, then `.env`), as in a container.
WORKERS_SETTING = "API_WORKERS"
#: uvicorn's log levels.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: The shells `--show-completion` writes a script for (argcomplete's, and typer's for taskgate-ops).
SHELLS = ("bash", "zsh", "fish", "powershell")


class _CommandLine(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A wrong option stops the command with one line and exit code 2, without the usage."""
        self.exit(2, f"{self.prog}: error: {message}\n")


class _ShowCompletion(argparse.Action):
    """Print the script that makes the shell complete this command's options, and exit."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: object, shell: object, option: str | None = None
    ) -> None:
        # Imported only here and when completing, so the supervisor stays small.
        from argcomplete.shell_integration import shellcode

        shell = shell if isinstance(shell, str) else Path(os.environ.get("SHELL", "")).name
        if shell not in SHELLS:
            parser.error(f"--show-completion: name the shell, one of {', '.join(SHELLS)}")
        print(shellcode([parser.prog], shell=shell), end="")
        parser.exit()


def _whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _CommandLine(prog="taskgate-api", description="Serve the taskgate HTTP api.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--show-completion",
        action=_ShowCompletion,
        nargs="?",
        choices=SHELLS,
        metavar="SHELL",
        help=f"print the script that completes this command in SHELL ({', '.join(SHELLS)}; default: $SHELL) "
        "and exit",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")  # noqa: S104
    port = _whole_number(0, 65535)
    parser.add_argument("--port", type=port, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument(
        "--log-level", type=str.lower, choices=LOG_LEVELS, default="info", help="(default: info)"
    )
    parser.add_argument(
        "--backlog",
        type=_whole_number(1),
        default=8192,
        help="connections the kernel queues before accepting them (default: 8192, at most somaxconn)",
    )
    parser.add_argument(
        "--workers",
        type=_whole_number(1),
        help=f"api processes sharing the port (default: {WORKERS_SETTING}, else 1); about one per core",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="listen with SO_REUSEPORT, so several taskgate-api processes can share the port",
    )
    return parser


def _workers_setting(parser: argparse.ArgumentParser) -> int:
    """API_WORKERS, refused like every other wrong setting: one line naming it, exit code 2."""
    text = setting(WORKERS_SETTING)
    if text is None:
        return 1
    try:
        workers: int = _whole_number(1)(text)
    except argparse.ArgumentTypeError as error:
        parser.exit(2, f"invalid setting {WORKERS_SETTING}: {error}\n")
    return workers


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    listen = Listen(args.host, args.port, args.backlog, args.log_level)
    workers = _workers_setting(parser) if args.workers is None else args.workers
    if workers > 1:
        # Each api process reads and checks the settings itself; a wrong one stops them all (exit 2).
        parser.exit(PreforkSupervisor(listen, workers).run())
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
