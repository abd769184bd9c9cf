"""Schema revisions, applied in order by `events.sql.migrate.upgrade`."""
