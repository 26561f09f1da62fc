"""WEBHOOK_ALLOWED_HOSTS: which callback URLs the api accepts and which addresses a delivery connects to."""

import ipaddress

import pytest

from taskgate_contracts.destinations import DestinationPolicy, parse_allowed_hosts, restricted_kind


def policy(text: str) -> DestinationPolicy:
    return DestinationPolicy(parse_allowed_hosts(text))


def refusal(allowed: str, url: str) -> str:
    with pytest.raises(ValueError, match=r".") as caught:
        policy(allowed).destination(url)
    return str(caught.value)


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        ("hooks.example.com", "https://hooks.example.com/taskgate?team=a"),
        ("HOOKS.example.com.", "http://hooks.EXAMPLE.com/"),
        ("*.example.com", "https://a.b.example.com/"),
        ("*", "https://anything.test:8443/"),
        ("hooks.example.com:8443", "https://hooks.example.com:8443/"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080/hook"),
        ("10.0.0.0/8", "http://10.1.2.3/"),
        ("[::1]", "http://[::1]:9/"),
        ("[fd00::/8]:443", "https://[fd00::1]/"),
        ("*", "https://93.184.215.14/"),
    ],
)
def test_an_allowed_destination_is_taken(allowed: str, url: str) -> None:
    assert policy(allowed).destination(url).url == url


@pytest.mark.parametrize(
    ("allowed", "url", "problem"),
    [
        ("", "https://hooks.example.com/", "WEBHOOK_ALLOWED_HOSTS lists no destination"),
        ("*", "ftp://hooks.example.com/", "must be http or https"),
        ("*", "https:///path", "names no host"),
        ("*", "http://h:99999/", "not a URL"),
        ("hooks.example.com", "https://evil.example.com/", "evil.example.com:443 is not a destination"),
        ("*.example.com", "https://example.com.evil.test/", "is not a destination"),
        ("hooks.example.com:8443", "https://hooks.example.com/", "hooks.example.com:443 is not"),
        ("127.0.0.1:8080", "http://127.0.0.1:8081/", "127.0.0.1:8081 is not a destination"),
        ("*", "http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("*", "http://127.0.0.1:8080/", "127.0.0.1 is a loopback address"),
        ("*", "http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("*", "http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),
        ("*", "http://224.0.0.1/", "multicast"),
        ("*", "http://0.0.0.0/", "unspecified"),
        ("*", "http://240.0.0.1/", "reserved"),
        ("localhost:80", "http://localhost:8080/", "localhost:8080 is not a destination"),
        ("*", "https://h/" + "x" * 2048, "longer than 2048 characters"),
    ],
)
def test_a_refused_destination_is_named_with_why(allowed: str, url: str, problem: str) -> None:
    assert problem in refusal(allowed, url)


def test_a_name_entry_never_lets_a_private_address_through() -> None:
    rules = policy("*, hooks.internal")
    with pytest.raises(ValueError, match=r"192\.168\.1\.20 is a private address"):
        rules.check_address(ipaddress.ip_address("192.168.1.20"), 443)
    rules.check_address(ipaddress.ip_address("93.184.215.14"), 443)


def test_an_ip_entry_lets_its_addresses_through_on_its_port_only() -> None:
    rules = policy("hooks.internal, 10.0.0.0/8:8443")
    rules.check_address(ipaddress.ip_address("10.9.9.9"), 8443)
    with pytest.raises(ValueError, match=r"10\.9\.9\.9 is a private address"):
        rules.check_address(ipaddress.ip_address("10.9.9.9"), 443)
    with pytest.raises(ValueError, match="loopback"):
        rules.check_address(ipaddress.ip_address("::ffff:127.0.0.1"), 8443)


@pytest.mark.parametrize("entry", ["a..b", "*.", "x*.example.com", "10.0.0.0/8:0", "[::1", "h:port", "a/b"])
def test_a_malformed_entry_is_refused_naming_it(entry: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        parse_allowed_hosts(f"hooks.example.com, {entry}")


def test_entries_read_back_as_written() -> None:
    entries = parse_allowed_hosts(" *.example.com ,127.0.0.1:8080,[::1]:9, 10.0.0.0/8 ,")
    assert [str(entry) for entry in entries] == [
        "*.example.com",
        "127.0.0.1/32:8080",
        "[::1/128]:9",
        "10.0.0.0/8",
    ]


def test_public_addresses_are_not_restricted() -> None:
    assert restricted_kind(ipaddress.ip_address("93.184.215.14")) is None
    assert restricted_kind(ipaddress.ip_address("2606:4700::1111")) is None
    assert restricted_kind(ipaddress.ip_address("fe80::1")) == "link-local"
