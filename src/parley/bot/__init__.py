"""A bot as code: the bot.yaml schema, and loading a bot folder with file:line problems."""

from parley.bot.load import Bot, check_bot, load_bot

__all__ = ["Bot", "check_bot", "load_bot"]
