"""Ingest: authenticate, parse, validate, address, store and answer L3."""
