"""Dialects: pure translations between parley's model and each business-logic wire protocol.

`get_dialect(name)` is the only way delivery finds one; adding a protocol means adding a
`Dialect` subclass and one line to `_DIALECTS`.
"""

from __future__ import annotations

from parley.dialects.aimylogic import AimylogicDialect
from parley.dialects.base import Dialect, UnknownDialect, WireRequest, WireResponse
from parley.dialects.cai import CaiDialect
from parley.dialects.dialogflow import DialogflowDialect
from parley.dialects.haptik import HaptikDialect
from parley.dialects.http import HttpBlockDialect
from parley.dialects.initai import InitaiDialect
from parley.dialects.rasa import RasaDialect

__all__ = [
    "Dialect",
    "UnknownDialect",
    "WireRequest",
    "WireResponse",
    "dialect_names",
    "get_dialect",
]

_DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect
    for dialect in (
        HaptikDialect(),
        AimylogicDialect(),
        HttpBlockDialect(),
        CaiDialect(),
        RasaDialect(),
        DialogflowDialect(),
        InitaiDialect(),
    )
}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; dialects are stateless, so one instance serves every call."""
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(dialect_names())
        raise UnknownDialect(f"unknown dialect {name!r} (known: {known})") from None


def dialect_names() -> list[str]:
    return sorted(_DIALECTS)
