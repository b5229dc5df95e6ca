"""Delivery: the outbox workers that push accepted messages to recipients' webhooks.

Fair per recipient, retried on a schedule, guarded by a circuit breaker, and
journalled at every attempt. See worker.py for how the pieces fit.
"""

from opendip.delivery.retry import RetryPolicy
from opendip.delivery.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "RetryPolicy"]
