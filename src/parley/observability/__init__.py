"""Observability: Prometheus metrics, request/turn context for logs, W3C trace context.

See docs/operations.md for metric names, the JSON log format and `traceparent`.
"""

from parley.observability.context import (
    RequestContext,
    current_fields,
    outbound_traceparent,
    parse_traceparent,
    turn_scope,
)
from parley.observability.logs import JsonFormatter, configure_logging
from parley.observability.metrics import Metrics

__all__ = [
    "JsonFormatter",
    "Metrics",
    "RequestContext",
    "configure_logging",
    "current_fields",
    "outbound_traceparent",
    "parse_traceparent",
    "turn_scope",
]
