"""The SSE follower's parsing and the fan-out's verdict on what each follower received."""

from bench.scenarios.fanout import _answered_after_the_end, _complete
from bench.sse import Followed, Received, parse_events, stream_time


def test_an_event_split_across_chunks_is_kept_once_whole() -> None:
    events: list[Received] = []
    rest = parse_events(b"event: progress\r\nid: 1700000000123-0\r\ndata: {}\r\n\r\nevent: pro", 1.0, events)
    rest = parse_events(rest + b"gress\r\nid: 1700000000623-0\r\ndata: {}\r\n\r\n", 2.0, events)
    assert rest == b""
    assert events == [
        Received("progress", "1700000000123-0", 1.0),
        Received("progress", "1700000000623-0", 2.0),
    ]


def test_heartbeats_and_comments_are_not_events() -> None:
    events: list[Received] = []
    parse_events(b": ping - 2026-12-08 00:00:00\r\n\r\nevent: state\nid: final\ndata: {}\n\n", 1.0, events)
    assert events == [Received("state", "final", 1.0)]


def test_a_stream_id_gives_the_millisecond_redis_logged_it() -> None:
    assert stream_time("1700000000123-4") == 1700000000.123
    assert stream_time("final") is None
    assert stream_time("12-x") is None


def _follower(*ids: str, first: str = "snapshot") -> Followed:
    kinds = [first, *["progress"] * (len(ids) - 1)]
    return Followed(
        "t", status=200, events=[Received(kind, id_, 0.0) for kind, id_ in zip(kinds, ids, strict=True)]
    )


LOGGED = ["1-0", "2-0", "3-0", "4-0"]


def test_every_event_after_the_snapshot_in_order_then_final_is_complete() -> None:
    assert _complete(_follower("2-0", "3-0", "4-0", "final"), LOGGED)


def test_a_missing_a_repeated_or_a_reordered_event_is_not() -> None:
    assert not _complete(_follower("2-0", "4-0", "final"), LOGGED)
    assert not _complete(_follower("2-0", "3-0", "3-0", "4-0", "final"), LOGGED)
    assert not _complete(_follower("2-0", "4-0", "3-0", "final"), LOGGED)
    assert not _complete(_follower("2-0", "3-0", "4-0"), LOGGED)


def test_a_stream_without_a_snapshot_first_or_broken_is_not() -> None:
    assert not _complete(_follower("2-0", "3-0", "4-0", "final", first="progress"), LOGGED)
    broken = _follower("2-0", "3-0", "4-0", "final")
    broken.error = "stream broken"
    assert not _complete(broken, LOGGED)


def test_a_follower_answered_after_the_end_is_told_apart() -> None:
    assert _answered_after_the_end(_follower("final"))
    assert not _answered_after_the_end(_follower("2-0", "final"))
