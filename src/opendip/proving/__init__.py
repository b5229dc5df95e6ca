"""Connectivity proving: a participant's certificate, webhook, test message and inbound traffic, checked and dated."""
