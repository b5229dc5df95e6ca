"""Participants: DIP IDs, roles, API keys, certificates, connection providers, webhooks."""
