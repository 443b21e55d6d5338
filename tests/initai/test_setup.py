"""The logic-server fixture's rule for a machine without node: skip, but fail under CI."""

from __future__ import annotations

import pytest

from .conftest import _missing


def test_missing_node_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _missing("node and npm are needed")


def test_missing_node_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _missing("node and npm are needed")
