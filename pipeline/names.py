"""People's given names, from the person providers of Faker (MIT), in Latin script: in a row
of results, where the model has no sentence to read, "Mehmet Scholl" is a person's name.
Read from a data file taken once from Faker, so that Faker is no dependency of the worker."""

from __future__ import annotations

from functools import cache
from importlib import resources

import orjson


@cache
def given_names() -> frozenset[str]:
    """The given names of every locale of Faker's person providers, in their ASCII spellings
    (``pipeline/data/given-names.json``, taken once from Faker 40.63; MIT, see
    ``pipeline/data/LICENSE-faker``)."""
    data = resources.files("pipeline") / "data" / "given-names.json"
    return frozenset(orjson.loads(data.read_bytes())["names"])
