"""The Init.ai scaffold: a bot whose whole conversation runs on a self-hosted logic server
on the SDK."""
