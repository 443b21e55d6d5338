"""The Aimylogic scaffold: a bot whose start node asks the bot-level webhook first."""
