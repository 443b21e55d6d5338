"""The Dialogflow ES scaffold: a bot that prices two products through a fulfillment webhook
on the SDK."""
