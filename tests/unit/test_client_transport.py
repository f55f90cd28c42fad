"""The HTTP layer's set-up: TLS verification required, a timeout on every call (no network)."""

from __future__ import annotations

import ssl

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from dbt_braze.client import ClientSettings
from dbt_braze.client.transport import Transport


def test_https_requires_a_verified_certificate_for_the_host_and_has_timeouts():
    transport = Transport(ClientSettings("https://rest.iad-01.braze.com", "k", timeout_s=7))
    context = transport._context
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    # requests' CA bundle, as when requests made the connections.
    assert context.cert_store_stats()["x509_ca"] > 0
    bundle = ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
    assert context.cert_store_stats() == bundle.cert_store_stats()
    assert transport._timeout_s == 7
    assert transport._headers["Authorization"] == "Bearer k"
    transport.close()


def test_an_endpoint_with_a_path_prefix_keeps_it():
    transport = Transport(ClientSettings("http://127.0.0.1:9/braze/", "k"))
    assert transport._prefix == "/braze"
    assert transport._context is None and (transport._host, transport._port) == ("127.0.0.1", 9)
    transport.close()
