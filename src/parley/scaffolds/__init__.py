"""What `parley init` copies into a new bot folder: one sub-package per dialect (haptik,
aimylogic, cai, rasa, dialogflow, initai) holding `bot.yaml`, `webhook.py` and `README.md`
(`cai`: `server.js` and `package.json`, a Node/Express webhook, instead of `webhook.py`).
`__NAME__`, `__PKG__` (the name in lower case, for npm) and `__DIR__` are filled in; the
Python webhooks are real modules here so ruff and mypy check them like the rest of parley."""
