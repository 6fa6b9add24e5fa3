"""Database access: one short-lived connection per check, enough for a scaffold."""

import psycopg

from app.settings import Settings


def database_reachable(settings: Settings, timeout_seconds: int = 2) -> bool:
    try:
        with psycopg.connect(str(settings.database_url), connect_timeout=timeout_seconds) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False
