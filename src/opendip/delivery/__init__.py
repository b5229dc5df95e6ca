"""Delivery: the outbox engine that pushes accepted messages (and, wired in by the hub, L4 statuses) to webhooks.

Fair per recipient and per kind, retried on a schedule, guarded by circuit
breakers, and journalled at every attempt. See worker.py for how the pieces fit.
"""

from opendip.delivery.message_kind import MessageKind
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "MessageKind", "RetryPolicy"]
