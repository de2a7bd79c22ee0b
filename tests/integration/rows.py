"""Writing rows behind the store's back, as corruption, a newer version or another node
would."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def corrupt_job(database_url: str, job_id: str, stored: str, column: str = "trigger") -> None:
    """Set ``column`` of the job's row to the raw text ``stored``."""
    _update(
        database_url, f"UPDATE tickwork_jobs SET {column} = :value WHERE id = :id", stored, job_id
    )


def corrupt_run_arguments(database_url: str, job_id: str, stored: str) -> None:
    """Set the ``args`` and ``kwargs`` of every run of the job to the raw text ``stored``
    (SQLite only: PostgreSQL's JSONB refuses text that is not JSON)."""
    _update(
        database_url,
        "UPDATE tickwork_runs SET args = :value, kwargs = :value WHERE job_id = :id",
        stored,
        job_id,
    )


def mark_node(database_url: str, node_id: str, state: str) -> None:
    """Set the node's state, as another node's reaper would."""
    _update(database_url, "UPDATE tickwork_nodes SET state = :value WHERE id = :id", state, node_id)


def _update(database_url: str, statement: str, value: str, row_id: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), {"value": value, "id": row_id})
    engine.dispose()
