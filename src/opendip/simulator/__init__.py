"""Simulated participants: webhook receivers and senders that behave like market participants' systems."""
