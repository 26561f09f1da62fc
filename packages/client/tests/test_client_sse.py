"""The Server-Sent Events decoder follows the HTML standard's parsing rules, however the bytes are split."""

import pytest

from taskgate_client.sse import ServerSentEvent, ServerSentEventDecoder


def decode(*chunks: bytes, last_event_id: str = "") -> list[ServerSentEvent]:
    decoder = ServerSentEventDecoder(last_event_id)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def one_byte_at_a_time(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


STREAM = (
    # A byte order mark may open the stream; it is not part of the first field's name.
    "\ufeffid: 1\n"
    ": ping\n"
    "event: snapshot\n"
    'data: {"a":\n'
    "data:1}\n"
    "\n"
    ": heartbeat\n"
    "retry: 2500\n"
    "data: «ünïcode» line\u2028separator\n"
    "\n"
).encode()


def test_fields_comments_and_multi_line_data() -> None:
    assert decode(STREAM) == [
        ServerSentEvent(event="snapshot", data='{"a":\n1}', id="1"),
        # No `id:` of its own: the last id seen stays the stream's last event id.
        ServerSentEvent(event="message", data="«ünïcode» line\u2028separator", id="1"),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n"], ids=["LF", "CR", "CRLF"])
def test_every_line_ending_and_any_split_of_the_bytes(newline: str) -> None:
    stream = STREAM.decode().replace("\n", newline).encode()

    assert decode(*one_byte_at_a_time(stream)) == decode(stream) == decode(STREAM)


def test_retry_is_kept_in_milliseconds_and_ignored_unless_digits() -> None:
    decoder = ServerSentEventDecoder()
    decoder.feed(b"retry: 2500\n")
    assert decoder.retry_ms == 2500
    decoder.feed(b"retry: soon\nretry: -1\n")
    assert decoder.retry_ms == 2500


def test_an_event_cut_off_by_the_end_of_the_stream_is_dropped() -> None:
    assert decode(b"id: 1\ndata: whole\n\nid: 2\ndata: cut off\n") == [
        ServerSentEvent(event="message", data="whole", id="1")
    ]


def test_a_final_line_ended_by_a_lone_cr_counts() -> None:
    assert decode(b"data: x\r\r") == [ServerSentEvent(event="message", data="x", id="")]


def test_the_last_event_id_moves_only_when_an_event_is_dispatched() -> None:
    decoder = ServerSentEventDecoder("7")
    decoder.feed(b"id: 8\ndata: half")
    assert decoder.last_event_id == "7"
    decoder.feed(b" of it\n\n")
    assert decoder.last_event_id == "8"


def test_an_id_alone_moves_the_last_event_id_without_an_event() -> None:
    decoder = ServerSentEventDecoder()
    assert decoder.feed(b"id: 9\n\n") == []
    assert decoder.last_event_id == "9"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"data\n", ""),  # a field name alone has an empty value
        (b"data:no space\n", "no space"),
        (b"data:  two spaces\n", " two spaces"),  # only one leading space is the separator's
    ],
)
def test_field_value_forms(line: bytes, expected: str) -> None:
    (event,) = decode(line + b"\n")
    assert event.data == expected


def test_unknown_fields_and_ids_with_nul_are_ignored() -> None:
    assert decode(b"id: 1\ndata: a\n\nid: 2\x00\nfoo: bar\ndata: b\n\n")[1] == ServerSentEvent(
        event="message", data="b", id="1"
    )


def test_resuming_decoder_starts_from_the_given_id() -> None:
    assert decode(b"data: x\n\n", last_event_id="41")[0].id == "41"
