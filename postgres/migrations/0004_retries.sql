-- trusthub-postgres schema version 4: how many times in a row a job failed with what may pass
-- next time (Twilio's 429, a gateway's error, the network), so that a worker can give up after
-- a number of them (PgQueue::retry, Leased::retries) instead of retrying for ever. Reset when the
-- job makes progress (parked for a review), when its input is updated, and when a failed job is
-- queued again (PgQueue::requeue_failed). Applied once, in the transaction that records it in
-- trusthub.schema_migrations. A count: no personal data.
ALTER TABLE trusthub.jobs ADD COLUMN retries integer NOT NULL DEFAULT 0;
