"""Replay and requeue: past messages back in the response, or re-delivered by a background job."""
