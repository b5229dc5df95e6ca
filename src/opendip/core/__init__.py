"""The ground floor every domain shares.

Journal entries and their writer, the DIP's protocol shapes (StandardResponse
and the request envelope), the caller identity, the audit log's actor and
writer, read-only engines for long reads, the background-loop helper and the
command-line helpers. Nothing here imports a domain; every domain may import
this.
"""
