"""Writing a job row behind the store's back, as corruption or a newer version would."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def corrupt_job(database_url: str, job_id: str, stored: str, column: str = "trigger") -> None:
    """Set ``column`` of the job's row to the raw text ``stored``."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE tickwork_jobs SET {column} = :stored WHERE id = :id"),
            {"stored": stored, "id": job_id},
        )
    engine.dispose()
