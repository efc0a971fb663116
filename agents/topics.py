"""The topic graph: names, partition counts and configs, and creating the topics up front.

::

    wire.raw -> [clean] -> newswire.internal.cleaned (key: fingerprint)
             -> [dedup] -> newswire.internal.unique  (key: story uri)   | wire.duplicates
             -> [enrich + publish] -> stories.structured, stories.latest | wire.rejected
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.config import Settings

DAY_MS = 24 * 3600 * 1000
DEDUP_PARTITIONS = 1
"""All cleaned items meet in one partition, so dedup compares each with every stored story."""


@dataclass(frozen=True)
class TopicNames:
    raw: str
    cleaned: str
    unique: str
    structured: str
    latest: str
    duplicates: str
    rejected: str

    @classmethod
    def for_settings(cls, settings: Settings) -> TopicNames:
        prefix = settings.topic_prefix
        return cls(
            raw=f"{prefix}wire.raw",
            cleaned=f"{prefix}newswire.internal.cleaned",
            unique=f"{prefix}newswire.internal.unique",
            structured=f"{prefix}stories.structured",
            latest=f"{prefix}stories.latest",
            duplicates=f"{prefix}wire.duplicates",
            rejected=f"{prefix}wire.rejected",
        )

    def all(self) -> list[str]:
        return [getattr(self, field.name) for field in fields(self)]


def topic_configs(names: TopicNames) -> dict[str, dict[str, str]]:
    """Per-topic configs; everything else takes the cluster's defaults."""
    week = str(7 * DAY_MS)
    return {
        names.raw: {"retention.ms": week},
        names.cleaned: {"retention.ms": week},
        names.unique: {"retention.ms": week},
        names.structured: {"retention.ms": str(30 * DAY_MS)},
        names.latest: {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"},
        names.duplicates: {"retention.ms": week},
        names.rejected: {"retention.ms": str(30 * DAY_MS)},
    }


async def ensure_topics(settings: Settings) -> list[str]:
    """Create any missing topic with its partition count and config; returns those created."""
    names = TopicNames.for_settings(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                DEDUP_PARTITIONS if name == names.cleaned else settings.partitions,
                settings.replication_factor,
                topic_configs=config,
            )
            for name, config in topic_configs(names).items()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another worker created them first
            except KafkaError as error:
                raise RuntimeError(f"could not create topics: {error}") from error
        return [topic.name for topic in wanted]
    finally:
        await admin.close()
