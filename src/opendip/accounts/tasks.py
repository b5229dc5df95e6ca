"""Background work for access control: the certificate expiry scan and the quota ledger refresh."""

from __future__ import annotations

import asyncio
import time

import structlog

from opendip.hub import Hub

log = structlog.get_logger(__name__)


async def run_access_tasks(hub: Hub) -> None:
    """Scan certificate expiry at start and every `expiry_scan_seconds`; refresh quota counts when quotas are set."""
    access = hub.access
    if access is None:
        return
    settings = hub.settings
    next_scan = 0.0
    while True:
        now = time.monotonic()
        if now >= next_scan:
            next_scan = now + settings.expiry_scan_seconds
            try:
                warnings, created = await asyncio.to_thread(access.expiry.scan)
                if created:
                    log.warning(
                        "certificate expiry notifications recorded",
                        count=created,
                        dip_ids=sorted({w.dip_id for w in warnings}),
                    )
            except Exception:
                log.exception("certificate expiry scan failed")
        try:
            if access.gate.quotas_in_use:
                await asyncio.to_thread(access.ledger.refresh)
        except Exception:
            log.exception("quota ledger refresh failed")
        await asyncio.sleep(max(0.05, settings.quota_refresh_seconds))
