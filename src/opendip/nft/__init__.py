"""Non-functional testing: the load generator, NFR compliance per participant, the assurance pack."""
