"""Settings are checked once; the key never shows in a repr; plain http only to loopback."""

from __future__ import annotations

import pytest

from dbt_braze.client import ClientSettings
from dbt_braze.client.settings import is_loopback
from dbt_braze.errors import ConfigError


def test_https_and_loopback_http_are_accepted():
    assert ClientSettings("https://rest.iad-01.braze.com/", "k").base_url == (
        "https://rest.iad-01.braze.com"
    )
    ClientSettings("http://127.0.0.1:4010", "k")
    ClientSettings("http://localhost:4010", "k")
    ClientSettings("http://[::1]:4010", "k")


def test_plain_http_to_a_remote_host_is_refused_unless_allowed():
    with pytest.raises(ConfigError, match="plain http"):
        ClientSettings("http://rest.iad-01.braze.com", "k")
    ClientSettings("http://10.0.0.5:4010", "k", allow_insecure_http=True)


def test_bad_values_are_all_reported_at_once():
    with pytest.raises(ConfigError) as info:
        ClientSettings("ftp://x", "", concurrency=0, rate_limit=0)
    assert len(info.value.problems) == 4


def test_the_key_is_not_in_the_repr():
    text = repr(ClientSettings("https://rest.fra-01.braze.eu", "secret-key-123"))
    assert "secret-key-123" not in text and "rest.fra-01" in text


def test_is_loopback():
    assert is_loopback("127.0.0.2") and is_loopback("LOCALHOST")
    assert not is_loopback("10.1.1.1") and not is_loopback("example.com")
