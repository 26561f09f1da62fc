"""Hostile requests against the live api: no 5xx, every answer one the OpenAPI document lists, and the
api still serving afterwards."""

import asyncio

import httpx
import pytest

JSON = {"content-type": "application/json"}

#: (name, body, headers) — bodies built to break parsers, not to be valid jobs.
HOSTILE: list[tuple[str, bytes, dict[str, str]]] = [
    ("a 5,000-digit integer", b'{"delay": ' + b"9" * 5_000 + b"}", JSON),
    ("a 300-digit float", b'{"delay": 1' + b"0" * 300 + b".5}", JSON),
    ("nesting 5,000 deep", b"[" * 5_000 + b"]" * 5_000, JSON),
    ("nesting inside delay", b'{"delay": ' + b"[" * 3_000 + b"]" * 3_000 + b"}", JSON),
    ("10 MB body", b'{"delay": 1, "pad": "' + b"x" * 10_000_000 + b'"}', JSON),
    ("JSON sent as text/plain", b'{"delay": 1}', {"content-type": "text/plain"}),
    ("JSON sent as XML", b'{"delay": 1}', {"content-type": "application/xml"}),
    ("no content type", b'{"delay": 1}', {}),
    ("fullwidth digit", '{"delay": "２"}'.encode(), JSON),
    ("right-to-left override in a key", '{"de\u202elay": 1}'.encode(), JSON),
    ("lone surrogate escape", b'{"delay": "\\ud800"}', JSON),
    ("NUL in the body", b'{"delay": 1}\x00', JSON),
    ("invalid UTF-8", b'{"delay": "\xc3\x28"}', JSON),
    ("duplicate keys", b'{"delay": 1, "delay": -1}', JSON),
]
#: What the api may answer to a body that is not a job: all documented on POST /process.
REFUSALS = {413, 422}


@pytest.mark.parametrize(("name", "body", "headers"), HOSTILE, ids=[name for name, _, _ in HOSTILE])
async def test_hostile_bodies_are_refused_not_crashed_on(
    client: httpx.AsyncClient, name: str, body: bytes, headers: dict[str, str]
) -> None:
    response = await client.post("/process", content=body, headers=headers)
    assert response.status_code in REFUSALS, (name, response.status_code, response.text[:500])
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "body", [b'{"delay": -1e-400}', '\ufeff{"delay": 0}'.encode()], ids=["negative zero", "byte order mark"]
)
async def test_tolerated_quirks_are_a_plain_delay_0_job(client: httpx.AsyncClient, body: bytes) -> None:
    # -1e-400 is -0.0, not below zero; JSON parsers may skip a byte order mark (RFC 8259, 8.1).
    response = await client.post("/process", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"


async def test_header_floods_do_not_hurt_the_api(client: httpx.AsyncClient) -> None:
    many = {f"x-flood-{n}": "y" * 50 for n in range(300)}
    huge = {"x-huge": "z" * 60_000}
    for headers in (many, huge):
        try:
            response = await client.post("/process", json={"delay": 0}, headers=headers)
        except httpx.HTTPError:
            continue  # refused at the HTTP layer, before the api: also fine
        assert response.status_code < 500, response.text[:500]
    # Whichever layer refused them, the api is unharmed.
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.post("/process", json={"delay": 0})).json()["status"] == "completed"


async def test_the_api_still_serves_after_the_abuse(client: httpx.AsyncClient) -> None:
    await asyncio.gather(*(client.post("/process", content=b"[" * 5_000, headers=JSON) for _ in range(20)))
    assert (await client.get("/healthz")).status_code == 200
    answer = await client.post("/process", json={"delay": 0})
    assert answer.status_code == 200
    assert answer.json()["status"] == "completed"


async def test_every_refusal_is_documented(client: httpx.AsyncClient) -> None:
    responses = (await client.get("/openapi.json")).json()["paths"]["/process"]["post"]["responses"]
    assert {str(code) for code in REFUSALS} <= set(responses)
