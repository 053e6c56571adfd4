"""Jobs an older digest saved in the store: brought up to date before APScheduler loads them."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Mapping

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import obj_to_ref
from sqlalchemy import inspect, select

_log = logging.getLogger("digest.scheduler")


def update_stored_jobs(jobs: SQLAlchemyJobStore, current: Mapping[str, Callable[[], None]]) -> None:
    """Point each stored job at its function as this version names it (`crawl_job` was
    `digest.scheduler:crawl_job`, with the interval as argument, before `digest.ops`), keeping
    its trigger and next run; drop a stored job whose function is gone, which APScheduler would
    otherwise drop with a traceback on every load. `current`: job function name -> function."""
    table = jobs.jobs_t
    if not inspect(jobs.engine).has_table(table.name):
        return
    wanted = {name: obj_to_ref(func) for name, func in current.items()}
    with jobs.engine.begin() as connection:
        for job_id, blob in connection.execute(select(table.c.id, table.c.job_state)).all():
            state = pickle.loads(blob)
            if state["func"] in wanted.values():
                continue
            func = wanted.get(state["func"].rpartition(":")[2])
            if func is None:
                _log.info("dropping stored job %r: its function %s is gone", job_id, state["func"])
                connection.execute(table.delete().where(table.c.id == job_id))
                continue
            _log.info("stored job %r now runs %s (was %s)", job_id, func, state["func"])
            state.update(func=func, args=(), kwargs={})
            blob = pickle.dumps(state, jobs.pickle_protocol)
            connection.execute(table.update().where(table.c.id == job_id).values(job_state=blob))
