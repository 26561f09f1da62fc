"""How `taskgate` reads `--args` and `--arg KEY=VALUE` into a task's arguments, field type by field type."""

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import Base64Bytes, Base64UrlBytes, BaseModel

from taskgate_client.arguments import ArgumentsError, Field, task_arguments


class Point(BaseModel):
    x: int
    y: int


class Args(BaseModel):
    title: str
    note: str | None = None
    count: int = 0
    ratio: float | str = 1.0
    where: Point | None = None
    blob: Base64Bytes | None = None
    token: Base64UrlBytes = b""


FIELDS: Mapping[str, Field] = Args.model_json_schema()["properties"]
BYTES = bytes(range(256)) + b"\xfb\xff"


def read(*pairs: str, json_text: str | None = None, fields: Mapping[str, Field] | None = FIELDS) -> Any:
    return task_arguments(json_text, pairs, fields)


@pytest.mark.parametrize(
    ("pair", "value"),
    [
        ("title=42", "42"),
        ("title=", ""),
        ('title="quoted"', '"quoted"'),
        ("title=a=b", "a=b"),
        ("note=null", "null"),  # optional text is still text
        ("count=42", 42),
        ("count=forty-two", "forty-two"),  # not JSON: sent as text for the api to refuse
        ("ratio=0.5", 0.5),  # a number or a text: JSON first
        ("ratio=half", "half"),
        ('where={"x": 1, "y": 2}', {"x": 1, "y": 2}),
        ("blob=AAEC", "AAEC"),  # inline, a base64 field takes the text already encoded
        ("other=[1, true]", [1, True]),  # a key the model does not have: the api will say so
    ],
)
def test_each_value_is_read_by_its_field_s_type(pair: str, value: Any) -> None:
    key = pair.partition("=")[0]
    assert read(pair) == {key: value}


def test_without_the_type_installed_every_value_is_json_or_text() -> None:
    assert read("title=42", "note=null", "count=forty-two", fields=None) == {
        "title": 42,
        "note": None,
        "count": "forty-two",
    }


def test_files_are_base64_encoded_for_base64_fields_and_text_for_others(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(BYTES)
    (tmp_path / "count.txt").write_text("12\n")
    (tmp_path / "title.txt").write_text("12\n")

    arguments = read(
        f"blob=@{tmp_path}/data.bin",
        f"token=@{tmp_path}/data.bin",
        f"count=@{tmp_path}/count.txt",
        f"title=@{tmp_path}/title.txt",
    )

    assert arguments == {
        "blob": base64.b64encode(BYTES).decode(),
        "token": base64.urlsafe_b64encode(BYTES).decode(),
        "count": 12,
        "title": "12\n",
    }
    # What the api's model makes of them is the file.
    parsed = Args.model_validate(arguments)
    assert (parsed.blob, parsed.token) == (BYTES, BYTES)


def test_a_file_path_may_start_at_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "title.txt").write_text("from home")

    assert read("title=@~/title.txt") == {"title": "from home"}


def test_arg_wins_over_json_key_by_key_and_the_last_arg_wins() -> None:
    assert read("count=2", "title=b", "title=c", json_text='{"title": "a", "count": 1, "note": "n"}') == {
        "title": "c",
        "count": 2,
        "note": "n",
    }


def test_no_arguments_at_all_are_an_empty_object() -> None:
    assert read() == {}


@pytest.mark.parametrize(
    ("pairs", "json_text", "says"),
    [
        (["title"], None, "--arg 'title' is not KEY=VALUE"),
        (["=1"], None, "--arg '=1' is not KEY=VALUE"),
        ([], "null", r"--args must be a JSON object \{\.\.\.\}, not 'null'"),
        ([], '"text"', r"--args must be a JSON object \{\.\.\.\}, not '\"text\"'"),
        ([], "{'title': 1}", "--args is not JSON: Expecting property name"),
        (["blob=@/nonexistent.bin"], None, "--arg blob: cannot read /nonexistent.bin: No such file"),
    ],
)
def test_malformed_arguments(pairs: list[str], json_text: str | None, says: str) -> None:
    with pytest.raises(ArgumentsError, match=says) as caught:
        read(*pairs, json_text=json_text)
    assert "\n" not in str(caught.value)
