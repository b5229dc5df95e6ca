"""Scenarios: YAML business flows played through a hub by simulated participants, with evidence."""
