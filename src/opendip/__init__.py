"""OpenDIP."""
