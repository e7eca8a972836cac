"""The RQ worker class for the ``kyr-outbound`` queue: ``rq worker -w bot.outreach.worker.OutboundWorker``.

RQ forks a fresh process for every job. Without this class each alert batch
would import the bot and load the answer catalogs again (~3 s per job); here
the parent imports and loads them once, and every forked job starts warm.
"""

from __future__ import annotations

import logging

from rq import Worker

from bot.outreach import broadcasts, outbound  # noqa: F401  (imported once, inherited by every job)

log = logging.getLogger(__name__)


class OutboundWorker(Worker):
    """A plain RQ worker that prepares the broadcast context before its first fork."""

    def work(self, *args, **kwargs):
        try:
            broadcasts.worker_broadcasts()
        except outbound.OutboundNotConfigured as exc:
            # Staff replies may still be sendable; alert jobs will report the same error.
            log.warning("alerts not configured in this worker: %s", exc)
        return super().work(*args, **kwargs)


#: The command that runs a worker, for the Makefile, bot.stack and docker-compose to share.
WORKER_ARGS = ("worker", "kyr-outbound", "--with-scheduler", "-w", "bot.outreach.worker.OutboundWorker")


def worker_command(rq_binary: str, redis_url: str) -> list[str]:
    return [rq_binary, *WORKER_ARGS, "--url", redis_url]

