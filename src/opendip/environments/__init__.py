"""Several environments on one hub: SIT, UIT, PRE-PROD... each with its own store, one listener."""
