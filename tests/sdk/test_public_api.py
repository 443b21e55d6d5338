"""`parley.sdk` is the webhook author's contract: flat, sorted, complete, documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import parley.sdk
import parley.sdk.testing


def _defined_public_names(package: ModuleType) -> set[str]:
    """Every public name defined in a public module of the package (not imported into it)."""
    names: set[str] = set()
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name == "testing":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            home = getattr(value, "__module__", None)
            if not name.startswith("_") and home == module.__name__:
                names.add(name)
    return names


@pytest.mark.parametrize("module", [parley.sdk, parley.sdk.testing], ids=lambda m: m.__name__)
def test_all_is_sorted_and_names_only_what_exists(module: ModuleType) -> None:
    assert module.__all__ == sorted(module.__all__)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name), name


def test_every_public_name_of_the_sdk_modules_is_exported_flat() -> None:
    """A name defined in parley.sdk.haptik (say) but missing from parley.sdk.__all__ is a
    public function nobody can find; add it to __all__ or rename it with a `_`."""
    assert _defined_public_names(parley.sdk) <= set(parley.sdk.__all__)


@pytest.mark.parametrize("module", [parley.sdk, parley.sdk.testing], ids=lambda m: m.__name__)
def test_every_exported_class_and_function_has_a_docstring(module: ModuleType) -> None:
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                function = getattr(member, "__func__", member)
                if not attr.startswith("_") and inspect.isfunction(function):
                    assert inspect.getdoc(function), f"{name}.{attr} has no docstring"
