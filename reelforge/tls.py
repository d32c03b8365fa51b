"""The TLS context of outgoing HTTPS clients, built once per process: building one reads the
whole CA bundle (about 60 ms of CPU), which every new `httpx.AsyncClient` would otherwise do
again."""

from __future__ import annotations

import ssl
from functools import cache

import certifi
import httpx


@cache
def client_tls_context() -> ssl.SSLContext:
    """httpx's own default: certifi's bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set."""
    return httpx.create_ssl_context()


@cache
def certifi_tls_context() -> ssl.SSLContext:
    """certifi's bundle whatever the environment says (outgoing webhooks, which ignore the
    environment on purpose)."""
    return ssl.create_default_context(cafile=certifi.where())
