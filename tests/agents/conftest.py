"""The agents' tests use the integration API's fixtures: one bot, its accounts, a server."""

from __future__ import annotations

# Imported so pytest finds them here too; defined once, in tests/integration_api/conftest.py.
from tests.integration_api.conftest import accounts, base_url, http, webhook  # noqa: F401
