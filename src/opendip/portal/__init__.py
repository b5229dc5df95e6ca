"""The web portal: server-rendered pages under /portal over the journal, messages, deliveries and participants.

Every page is a view over the same tables the hub writes, so what the portal
shows is what happened. Every count is a link to the rows behind it, and every
query is narrowed to what the current viewer may see (access.py).
"""
