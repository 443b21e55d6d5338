"""The Haptik scaffold: a bot that prices two products through its webhook."""
