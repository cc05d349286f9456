-- trusthub-postgres schema version 2: the live workers, for the account's request budget shared
-- between them (PgQueue::budget_share). Applied once, in the transaction that records it in
-- trusthub.schema_migrations. A worker id is a host name, process id and random part: no
-- personal data.

-- One row per worker that heart-beats; a row whose heartbeat is older than the callers' ttl is
-- deleted by the next call, a worker exiting cleanly deletes its own (PgQueue::leave_budget).
CREATE TABLE trusthub.workers (
    worker text PRIMARY KEY,
    -- The database's clock at the worker's last heartbeat.
    heartbeat timestamptz NOT NULL DEFAULT now()
);
