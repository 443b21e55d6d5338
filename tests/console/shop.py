"""The bot the web console's tests chat with: rich says, a signed webhook, a hand-off."""

from __future__ import annotations

CARD_IMAGE = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='160' height='80'%3E"
    "%3Crect width='160' height='80' fill='%23557'/%3E%3Ccircle cx='80' cy='40' r='24'"
    " fill='%23eef'/%3E%3C/svg%3E"
)

BOT = """\
name: shop
environments:
  test: {{base_url: "{base}"}}
  production: {{base_url: "{base}"}}
settings:
  human_assistance: true
  team: support
entities:
  product_name:
    values:
      speaker: [speaker, speakers]
      powerbank: [powerbank, power bank]
intents:
  greet: {{examples: [hi, hello]}}
  price: {{examples: ["price of speaker", "how much is the powerbank", "price"]}}
  human: {{examples: ["talk to a human", "server error please"]}}
nodes:
  greet:
    intents: [greet]
    says:
      - "Hello! What would you like to price?"
      - type: quick_replies
        content:
          title: Pick a product
          buttons:
            - {{title: Speaker, value: "price of speaker"}}
            - {{title: Powerbank, value: "how much is the powerbank"}}
      - type: carousel
        content:
          - {{title: Speaker, subtitle: "Wireless alarm clock", image_url: "{image}",
              buttons: [{{title: "Price it", value: "price of speaker"}}]}}
          - {{title: Powerbank, subtitle: "10000 mAh", image_url: "{image}",
              buttons: [{{title: "Price it", value: "how much is the powerbank"}}]}}
  price:
    intents: [price]
    entities:
      product_name: {{required: true, prompt: "Which product?"}}
    webhook: {{path: /price, secret: test}}
    success: "Anything else?"
    next: [{{node: thanks, if: "product_name"}}]
  thanks:
    says: "Thanks for asking about the {{{{ product_name }}}}."
    end: true
  broken:
    intents: [human]
    webhook: {{path: /500}}
"""


def shop_yaml(base: str) -> str:
    return BOT.format(base=base, image=CARD_IMAGE)
