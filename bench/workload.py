"""What the benchmark asks, what the webhook answers, and how both targets are reached."""

from __future__ import annotations

BOT = "shop"
SECRET = "test"
PRICES = {"speaker": 1599, "powerbank": 1799}
DIALOG_PATH = f"/api/v1/bots/{BOT}/dialog"
WEBHOOK_PATH = "/price"
HEALTH_PATH = "/healthz"


def price_text(product: str) -> str:
    """The webhook's answer for `product`; a reply must contain exactly this text."""
    return f"The {product} costs Rs.{PRICES[product]}"


# Each message makes one webhook call; the workers alternate between them.
MESSAGES: tuple[tuple[str, str], ...] = (
    ("price of the speaker", price_text("speaker")),
    ("how much is the powerbank", price_text("powerbank")),
)
