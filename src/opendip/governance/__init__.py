"""Governance: change requests to the DIP and the catalogue releases they authorise.

A change request moves through the DIP Manager's release process (raise to
confirm) under a RACI table kept as data; a change to message definitions is
linked to a catalogue version that is promoted environment by environment only
as far as its change request allows, and each environment serves it from its
effective date.
"""
