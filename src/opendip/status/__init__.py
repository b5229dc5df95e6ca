"""L3/L4 status messages and the journal that tracks every message's stages."""
