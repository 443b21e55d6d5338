"""The bot's webhook: parley POSTs every variable plus `action`, `queryText`, `userId`, ...
when a node with an `event` is entered; each key of the answer becomes a variable.

    python webhook.py [PORT]        # default 9000

`aimylogic_wsgi` refuses what is not a JSON object (400) and turns the answer into JSON;
`on_event` is all the business logic. Test it without parley running:

    from parley.sdk.testing import WebhookClient
    result = WebhookClient(app, dialect="aimylogic").send("start", user="ada")
    assert result.outcome.variables == {"visits": 1}
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from parley.sdk import AimylogicRequest, aimylogic_wsgi, serve

visits: Counter[str] = Counter()  # in memory: restarting the webhook forgets everyone


def on_event(request: AimylogicRequest) -> dict[str, Any]:
    if request.action == "start":
        visits[request.userId] += 1
        return {"visits": visits[request.userId]}
    return {}


app = aimylogic_wsgi(on_event)

if __name__ == "__main__":
    serve(app, port=int(sys.argv[1]) if len(sys.argv) > 1 else 9000)
