"""How every Kafka client of Newswire connects: TLS and SASL from the one configuration.

The Faust app, the CLI's producers and consumers, the admin client and the probes all take
their connection options from here, so a secured cluster needs its settings once.
"""

from __future__ import annotations

import ssl
from typing import Any

import faust
from faust.types.auth import CredentialsT

from pipeline.config import Settings


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL: the configured CA (else the system's) and, for
    mutual TLS, the client certificate."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None)
    return context


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client: where, and how securely."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password,
        }
    return options


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """The same, as Faust's broker credentials."""
    protocol = settings.kafka_security_protocol
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=ssl_context(settings),
        )
    if protocol == "SSL":
        context = ssl_context(settings)
        assert context is not None
        return faust.SSLCredentials(context)
    return None
