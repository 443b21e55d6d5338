"""initai-node's starter logic (`exports.handle = (client) => {...}`), in Python."""


def handle(client):
    def hello_sent():
        return bool(client.getConversationState().get("helloSent"))

    def say_hello():
        client.addResponse("welcome")
        client.addResponse(
            "provide/documentation",
            {"documentation_link": client.getEnvironment()["DOCS_URL"]},
        )
        client.addResponse("provide/instructions")
        client.updateConversationState({"helloSent": True})
        client.done()

    def say_goodbye():
        client.addResponse("goodbye")
        client.done()

    sayHello = client.createStep({"satisfied": hello_sent, "prompt": say_hello})
    untilNextTime = client.createStep({"satisfied": lambda: False, "prompt": say_goodbye})

    client.runFlow(
        {
            "classifications": {"goodbye": "goodbye", "greeting": "greeting"},
            "streams": {
                "goodbye": untilNextTime,
                "greeting": sayHello,
                "main": "onboarding",
                "onboarding": [sayHello],
                "end": [untilNextTime],
            },
        }
    )
