"""People's given names, from the person providers of Faker (MIT), in Latin script: in a row
of results, where the model has no sentence to read, "Mehmet Scholl" is a person's name."""

from __future__ import annotations

import importlib
import pkgutil
import unicodedata
from functools import cache

_GERMAN_FOLDING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def ascii_forms(name: str) -> set[str]:
    """How wire copy, which is written in ASCII, spells a name: "Jürgen" as "Jurgen" and
    "Juergen"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    german = unicodedata.normalize("NFKD", name.translate(_GERMAN_FOLDING))
    return {form for form in (plain, german.encode("ascii", "ignore").decode()) if form.isalpha()}


@cache
def given_names() -> frozenset[str]:
    """The given names of every locale Faker has."""
    import faker.providers.person as providers

    found: set[str] = set()
    for module in pkgutil.iter_modules(providers.__path__):
        locale = importlib.import_module(f"{providers.__name__}.{module.name}")
        provider = getattr(locale, "Provider", None)
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            names = getattr(provider, attribute, ())
            if isinstance(names, (tuple, list, dict, set, frozenset)):
                for name in names:
                    if isinstance(name, str) and name.isalpha():
                        found |= ascii_forms(name)
    return frozenset(found)
