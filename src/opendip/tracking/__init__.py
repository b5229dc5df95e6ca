"""Test tracking: test cases, cohorts of participants in test phases, runs, criteria, RAG and defects."""
