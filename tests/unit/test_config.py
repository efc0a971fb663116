from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, Settings


def test_defaults_use_the_local_broker() -> None:
    settings = Settings.load({})
    assert settings.uses_local_broker
    assert settings.bootstrap == "127.0.0.1:9092"
    assert settings.web_url == "http://127.0.0.1:6066"


def test_environment_then_flags() -> None:
    env = {
        "NEWSWIRE_KAFKA_BOOTSTRAP": "kafka-1:9092,kafka-2:9092",
        "NEWSWIRE_PARTITIONS": "8",
        "NEWSWIRE_VALIDATE_STORIES": "off",
        "NEWSWIRE_HOME": "/tmp/nw",
    }
    settings = Settings.load(env, partitions=2, web_port=None)
    assert settings.bootstrap == "kafka-1:9092,kafka-2:9092"
    assert not settings.uses_local_broker
    assert settings.partitions == 2
    assert settings.validate_stories is False
    assert settings.home == Path("/tmp/nw")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSWIRE_WEB_PORT": "http"}, "NEWSWIRE_WEB_PORT must be a whole number"),
        ({"NEWSWIRE_VALIDATE_STORIES": "perhaps"}, "must be true or false"),
        ({"NEWSWIRE_PARTITIONS": "0"}, "NEWSWIRE_PARTITIONS must be at least 1"),
        ({"NEWSWIRE_WEB_PORT": "70000"}, "NEWSWIRE_WEB_PORT must be a TCP port"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(env)


def test_settings_pass_to_a_child_process_unchanged() -> None:
    settings = Settings.load({}, topic_prefix="staging.", partitions=3, validate_stories=False)
    assert Settings.load(settings.as_environment()) == settings
