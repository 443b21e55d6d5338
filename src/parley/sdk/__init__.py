"""parley's SDK for webhook authors: typed requests and answers per dialect, signature checks,
a webhook in a few lines as an ASGI or WSGI app, and (in `parley.sdk.testing`) a client that
sends exactly what parley sends.

    from parley.sdk import HaptikRequest, HaptikResponse, haptik_wsgi

    def price(request: HaptikRequest) -> HaptikResponse:
        return HaptikResponse.reply(f"The {request.entity('product_name')} costs Rs.1599")

    app = haptik_wsgi(price, secret="test")

Everything public is importable from here; see docs/sdk.md.
"""

from __future__ import annotations

from parley.sdk._wire import WebhookError, verify_signature
from parley.sdk.aimylogic import (
    AimylogicHandler,
    AimylogicRequest,
    AsyncAimylogicHandler,
    aimylogic_app,
    aimylogic_wsgi,
)
from parley.sdk.cai import (
    AsyncCaiHandler,
    CaiConversation,
    CaiConversationUpdate,
    CaiHandler,
    CaiIntent,
    CaiNlp,
    CaiReply,
    CaiRequest,
    CaiResponse,
    cai_app,
    cai_button,
    cai_buttons,
    cai_card,
    cai_carousel,
    cai_picture,
    cai_quick_replies,
    cai_text,
    cai_wsgi,
)
from parley.sdk.dialogflow import (
    AsyncDialogflowHandler,
    DialogflowContext,
    DialogflowHandler,
    DialogflowIntent,
    DialogflowMessage,
    DialogflowQueryResult,
    DialogflowRequest,
    DialogflowResponse,
    df_card,
    df_image,
    df_payload,
    df_quick_replies,
    df_text,
    dialogflow_app,
    dialogflow_wsgi,
)
from parley.sdk.haptik import (
    AsyncHaptikHandler,
    HaptikEntity,
    HaptikHandler,
    HaptikRequest,
    HaptikResponse,
    HaptikUser,
    haptik_app,
    haptik_wsgi,
)
from parley.sdk.hsl import (
    hsl_button,
    hsl_buttons,
    hsl_card,
    hsl_carousel,
    hsl_image,
    hsl_quick_replies,
)
from parley.sdk.rasa import (
    AsyncRasaHandler,
    RasaActionCall,
    RasaActionResult,
    RasaEntity,
    RasaHandler,
    RasaIntent,
    RasaMessage,
    RasaTracker,
    rasa_app,
    rasa_wsgi,
)
from parley.sdk.serving import serve

__all__ = [
    "AimylogicHandler",
    "AimylogicRequest",
    "AsyncAimylogicHandler",
    "AsyncCaiHandler",
    "AsyncDialogflowHandler",
    "AsyncHaptikHandler",
    "AsyncRasaHandler",
    "CaiConversation",
    "CaiConversationUpdate",
    "CaiHandler",
    "CaiIntent",
    "CaiNlp",
    "CaiReply",
    "CaiRequest",
    "CaiResponse",
    "DialogflowContext",
    "DialogflowHandler",
    "DialogflowIntent",
    "DialogflowMessage",
    "DialogflowQueryResult",
    "DialogflowRequest",
    "DialogflowResponse",
    "HaptikEntity",
    "HaptikHandler",
    "HaptikRequest",
    "HaptikResponse",
    "HaptikUser",
    "RasaActionCall",
    "RasaActionResult",
    "RasaEntity",
    "RasaHandler",
    "RasaIntent",
    "RasaMessage",
    "RasaTracker",
    "WebhookError",
    "aimylogic_app",
    "aimylogic_wsgi",
    "cai_app",
    "cai_button",
    "cai_buttons",
    "cai_card",
    "cai_carousel",
    "cai_picture",
    "cai_quick_replies",
    "cai_text",
    "cai_wsgi",
    "df_card",
    "df_image",
    "df_payload",
    "df_quick_replies",
    "df_text",
    "dialogflow_app",
    "dialogflow_wsgi",
    "haptik_app",
    "haptik_wsgi",
    "hsl_button",
    "hsl_buttons",
    "hsl_card",
    "hsl_carousel",
    "hsl_image",
    "hsl_quick_replies",
    "rasa_app",
    "rasa_wsgi",
    "serve",
    "verify_signature",
]
