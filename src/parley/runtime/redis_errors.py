"""What a Redis call raises when Redis is gone: redis-py's own errors and, while Redis
restarts, the event loop's (uvloop raises `RuntimeError` for a transport that closed under
the client, redis-py lets it through). Turns answer 503 for any of them, never 500."""

from __future__ import annotations

from redis.exceptions import RedisError

REDIS_DOWN: tuple[type[Exception], ...] = (RedisError, OSError, RuntimeError)
