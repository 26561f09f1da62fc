"""A task's arguments from the command line: an `--args` object, then `--arg KEY=VALUE` pairs over it.

These rules only choose the JSON each value is sent as; the api validates the arguments and explains a
refusal with its 422. Where the task type is installed, its args model's JSON schema says how to read a
value: a string field takes the text as it is, any other field parses it as JSON. Where it is not, every
value is parsed as JSON, falling back to the text. `KEY=@PATH` stands for the file's contents: base64-
encoded for a base64 field (as pydantic's `Base64Bytes` is), else its text read by the same rules.
"""

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: A field's JSON schema.
Field = Mapping[str, Any]

#: The string formats of pydantic's base64 types, with the encoding each expects.
_ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "base64": base64.b64encode,
    "base64url": base64.urlsafe_b64encode,
}


class ArgumentsError(ValueError):
    """An option of the command cannot be used (`--args`, an `--arg`, `--out`); the message is one line
    naming it."""


def task_arguments(
    json_text: str | None, pairs: Sequence[str], fields: Mapping[str, Field] | None
) -> dict[str, Any]:
    """The arguments `--args` and `--arg` give, an `--arg` winning over `--args` for its key.

    `fields` are the properties of the args model's JSON schema, or None when the type is not installed here.
    """
    arguments = _object(json_text) if json_text is not None else {}
    for pair in pairs:
        key, equals, text = pair.partition("=")
        if not equals or not key:
            raise ArgumentsError(f"--arg {pair!r} is not KEY=VALUE")
        arguments[key] = _value(key, text, (fields or {}).get(key))
    return arguments


def _object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArgumentsError(f"--args is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise ArgumentsError(f"--args must be a JSON object {{...}}, not {text[:80]!r}")
    return value


def _value(key: str, text: str, field: Field | None) -> Any:
    if text.startswith("@"):
        contents = _read(key, Path(text[1:]).expanduser())
        encoding = _base64(field)
        if encoding is not None:
            return encoding(contents).decode("ascii")
        try:
            text = contents.decode()
        except UnicodeDecodeError:
            raise ArgumentsError(
                f"--arg {key}: {text[1:]} is not UTF-8 text; binary data goes to a base64 field of a task "
                "type installed here, or base64-encoded in --args"
            ) from None
    if _is_text(field):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _read(key: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ArgumentsError(f"--arg {key}: cannot read {path}: {error.strerror or error}") from None


def _branches(field: Field | None) -> list[Field]:
    """The schemas a value of the field may match: an optional field's are its type's and null's."""
    if field is None:
        return []
    return list(field.get("anyOf", [field]))


def _base64(field: Field | None) -> Callable[[bytes], bytes] | None:
    """How the field's bytes are encoded, if it is a base64 field."""
    formats = [branch.get("format") for branch in _branches(field)]
    return next((_ENCODINGS[form] for form in formats if form in _ENCODINGS), None)


def _is_text(field: Field | None) -> bool:
    types = {branch.get("type") for branch in _branches(field)} - {"null"}
    return types == {"string"}
