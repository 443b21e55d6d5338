"""The one Call every dialect's golden `request.json` encodes."""

from __future__ import annotations

from parley.bot.schema import WebhookSpec
from parley.model import Call, Conversation, Detection, EntityValue, User

URL = "https://shop.example.com/api/check_price"
SECRET = "test"


def sample_call(secret: str | None = SECRET) -> Call:
    conversation = Conversation(
        id="c-42",
        bot="shop",
        user_id="u-7",
        conversation_no=3,
        node="check_price",
        language="hi",
        data={"insurance_no": "CDQP12324", "payment_mode": "COD"},
    )
    user = User(
        id="u-7",
        name="haptik_user_7",
        full_name="प्रिया शर्मा",
        language="hi",
        data={"phone_number": 8826755986, "date_of_birth": "21/07/1995"},
    )
    return Call(
        kind="webhook",
        node="check_price",
        spec=WebhookSpec(path="/check_price", secret=secret),
        entities={
            "product_id": EntityValue("71", "71"),
            "email": EntityValue("test@test.com", "test@test.com", Detection.USER_PROFILE),
            "product_name": EntityValue("speaker", "Speakers", Detection.DEFAULT),
            "quantity": EntityValue(2, "two", Detection.STRUCTURED),
        },
        conversation=conversation,
        user=user,
        text="how much are the speakers?",
    )
