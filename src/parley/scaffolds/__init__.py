"""What `parley init` copies into a new bot folder: one sub-package per dialect holding
`bot.yaml`, `webhook.py` and `README.md`. `__NAME__` and `__DIR__` are filled in; the
webhooks are real modules here so ruff and mypy check them like the rest of parley."""
