from __future__ import annotations

from pathlib import Path

import pytest

from parley.dialects import Dialect, UnknownDialect, dialect_names, get_dialect
from parley.errors import ParleyError


def test_haptik_is_registered() -> None:
    dialect = get_dialect("haptik")

    assert isinstance(dialect, Dialect)
    assert dialect.name == "haptik"


def test_unknown_dialect_is_a_parley_error_naming_the_known_ones() -> None:
    with pytest.raises(
        UnknownDialect, match=r"unknown dialect 'klingon' \(known: .*haptik.*\)"
    ) as info:
        get_dialect("klingon")

    assert isinstance(info.value, ParleyError)


def test_every_dialect_has_golden_files() -> None:
    golden = Path(__file__).parent / "golden"

    assert {name for name in dialect_names() if (golden / name / "request.json").is_file()} == set(
        dialect_names()
    )
