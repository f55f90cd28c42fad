"""The HTTP layer's set-up: TLS verification required, a timeout on every call (no network)."""

from __future__ import annotations

import ssl

from dbt_braze.client import ClientSettings
from dbt_braze.client.transport import Transport


def test_https_pool_requires_a_verified_certificate_and_has_timeouts():
    transport = Transport(ClientSettings("https://rest.iad-01.braze.com", "k", timeout_s=7))
    pool = transport._pool
    assert pool.cert_reqs in ("CERT_REQUIRED", ssl.CERT_REQUIRED)
    assert pool.ca_certs or pool.ca_cert_dir
    assert transport._timeout.connect_timeout == 7 and transport._timeout.read_timeout == 7
    assert transport._headers["Authorization"] == "Bearer k"
    transport.close()


def test_an_endpoint_with_a_path_prefix_keeps_it():
    transport = Transport(ClientSettings("http://127.0.0.1:9/braze/", "k"))
    assert transport._prefix == "/braze"
    transport.close()
