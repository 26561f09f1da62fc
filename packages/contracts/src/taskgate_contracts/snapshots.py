"""The command line every snapshot a package releases is written and checked with: contracts' JSON Schemas
(`python -m taskgate_contracts.schemas`) and the api's OpenAPI document (`python -m taskgate_api.openapi`).

With no option it prints the current document; `--out DIR` writes the snapshot of the package's version
into DIR; `--check DIR` exits 1, naming each difference and the command that writes it, unless DIR holds
the snapshot of the current document.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SnapshotCommand:
    #: `python -m <module>`.
    module: str
    description: str
    #: What is snapshotted, as messages name it: "contract".
    what: str
    #: Where in DIR a snapshot goes, for the help: "<version>/".
    layout: str
    #: The current document, as text.
    dump: Callable[[], str]
    #: Writes the snapshot into a folder; the paths written.
    write: Callable[[Path], list[Path]]
    #: How the snapshot in a folder differs from the current document; empty when it is the same.
    differences: Callable[[Path], list[str]]
    #: Where the snapshot of the current version is in a folder.
    location: Callable[[Path], Path]

    def main(self, argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m {self.module}", description=self.description)
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--out", type=Path, help=f"write the snapshot as OUT/{self.layout}")
        action.add_argument(
            "--check", type=Path, help=f"exit 1 unless CHECK/{self.layout} is the current {self.what}"
        )
        options = parser.parse_args(argv)
        if options.out is not None:
            for path in self.write(options.out):
                print(f"wrote {path}")
            return 0
        if options.check is not None:
            return self._check(options.check)
        print(self.dump(), end="")
        return 0

    def _check(self, folder: Path) -> int:
        differences = self.differences(folder)
        for difference in differences:
            print(difference, file=sys.stderr)
        if differences:
            print(f"write it with: python -m {self.module} --out {folder}", file=sys.stderr)
            return 1
        print(f"{self.location(folder)} is the current {self.what}")
        return 0
