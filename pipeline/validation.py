"""JSON Schema validation of Newswire's records against the shipped ``schemas/`` files."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import orjson
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SchemaName = Literal["raw-item", "story", "duplicate-notice", "dead-letter"]
SCHEMA_VERSION = "1.2.0"
NINJS_FILE = "ninjs-schema_3.1.json"


def schema_header(name: SchemaName) -> str:
    """The ``schema`` header value of a message: name and version, e.g. newswire.story/1.2.0."""
    return f"newswire.{name}/{SCHEMA_VERSION}"


def load_schema(file_name: str) -> dict[str, Any]:
    text = (resources.files("schemas") / file_name).read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


@cache
def validator(name: SchemaName) -> Draft202012Validator:
    """A compiled validator; built once per process because compiling costs milliseconds."""
    ninjs = load_schema(NINJS_FILE)
    registry: Registry[Any] = Registry().with_resource(
        ninjs["$id"].rstrip("#"), Resource.from_contents(ninjs)
    )
    return Draft202012Validator(load_schema(f"{name}.schema.json"), registry=registry)


def validation_error(name: SchemaName, document: Any) -> str | None:
    """The first schema violation as one line (``at /path: message``), or None when valid."""
    error = next(iter(validator(name).iter_errors(document)), None)
    if error is None:
        return None
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"at {where}: {message}"
