"""JSON Schema validation of Newswire's records against the shipped ``schemas/`` files."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema_rs
import orjson

from pipeline.limits import too_deep

SchemaName = Literal["raw-item", "story", "duplicate-notice", "dead-letter", "advisory"]
SCHEMA_VERSION = "1.7.0"
NINJS_FILE = "ninjs-schema_3.1.json"
GEOJSON = "https://geojson.org/schema/GeoJSON.json"
"""Where ninjs points for the ``geometry`` of a place. Not shipped and never fetched: any
geometry is accepted (Newswire writes none)."""


def schema_header(name: SchemaName) -> str:
    """The ``schema`` header value of a message: name and version, e.g. newswire.story/1.7.0."""
    return f"newswire.{name}/{SCHEMA_VERSION}"


def load_schema(file_name: str) -> dict[str, Any]:
    text = (resources.files("schemas") / file_name).read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


def _offline(uri: str) -> dict[str, Any]:
    if uri.rstrip("#") == GEOJSON:
        return {}
    raise ValueError(f"{uri} is not shipped with Newswire")


@cache
def validator(name: SchemaName) -> Any:
    """A compiled validator (jsonschema-rs: every story is checked, and the Python
    implementation took 1.5 ms of the event loop per story, this one 6 us); built once per
    process."""
    ninjs = load_schema(NINJS_FILE)
    registry = jsonschema_rs.Registry([(ninjs["$id"].rstrip("#"), ninjs)], retriever=_offline)
    return jsonschema_rs.validator_for(load_schema(f"{name}.schema.json"), registry=registry)


def validation_error(name: SchemaName, document: Any) -> str | None:
    """The first schema violation as one line (``at /path: message``), or None when valid.
    A document nested too deep for the checker is refused before it is walked."""
    if (deep := too_deep(document)) is not None:
        return f"at /: {deep}"
    error = next(iter(validator(name).iter_errors(document)), None)
    if error is None:
        return None
    where = "/" + "/".join(str(part) for part in error.instance_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"at {where}: {message}"
