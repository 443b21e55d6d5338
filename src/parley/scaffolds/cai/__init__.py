"""The CAI scaffold: a bot that prices two products through a Node/Express webhook written
like SAP CAI's sample server (seed 004)."""
