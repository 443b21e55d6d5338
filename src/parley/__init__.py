"""parley: a self-hostable conversational bot platform for the bot owner's own code."""

__version__ = "0.1.0"
