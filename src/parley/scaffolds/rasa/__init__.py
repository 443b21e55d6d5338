"""The Rasa scaffold: a bot that prices two products through an action server on the SDK."""
