-- trusthub-postgres schema version 3: liveness. Applied once, in the transaction that records it
-- in trusthub.schema_migrations.

-- Wake-ups: every change that may let a waiting worker go on (a job enqueued, released, parked,
-- done or failed) notifies the channel `trusthub_jobs` with the job's new state, so idle workers
-- lease at once instead of at their next poll (PgQueue::wakeups). The payload is a state name:
-- no personal data.

CREATE FUNCTION trusthub.notify_jobs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Delivered when the transaction commits; equal payloads of one transaction are sent once.
    PERFORM pg_notify('trusthub_jobs', NEW.state);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON trusthub.jobs
    FOR EACH ROW EXECUTE FUNCTION trusthub.notify_jobs();

-- A lease (to running) wakes nobody; a renewal changes no state.
CREATE TRIGGER jobs_notify_update AFTER UPDATE OF state ON trusthub.jobs
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.state <> 'running')
    EXECUTE FUNCTION trusthub.notify_jobs();

-- The process each worker of the account's budget runs in (postgres/src/process.rs: on Linux the
-- boot id, PID namespace, process id and start time; NULL elsewhere): a worker on the same
-- machine that finds the process gone gives its share back at once instead of when its heartbeat
-- lapses. No personal data.
ALTER TABLE trusthub.workers ADD COLUMN process text;
