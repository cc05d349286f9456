-- trusthub-postgres schema version 1: the store's key, the jobs, the SIDs they own and their
-- open intents. Applied once, in the transaction that records it in trusthub.schema_migrations.
-- Every column is described in the crate's documentation (postgres/src/lib.rs), with why it is
-- stored. No column holds a customer's key or data in clear.

-- The id of the store key the database was created with: a queue connected with another key is
-- refused (its digests would match nothing and its inputs would not decrypt).
CREATE TABLE trusthub.store (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per customer.
CREATE TABLE trusthub.jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- HMAC-SHA256 of the ISV's customer key under the store's digest key: the idempotency key.
    customer text NOT NULL UNIQUE,
    -- The customer's input, AES-256-GCM: 1 | nonce (12) | ciphertext | tag (16).
    input bytea NOT NULL,
    -- The flow's journal (SIDs, intents, keyed digests, times).
    journal jsonb,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'parked', 'done', 'failed')),
    -- When the job may next be leased: enqueued or released (now), the wake-up time of a parked
    -- job, the lease expiry of a running one; none once done or failed. The queue's order.
    ready_at timestamptz,
    -- The fencing token: incremented by every lease; a save, renewal or finish names it.
    lease bigint NOT NULL DEFAULT 0,
    lease_owner text,
    lease_expires timestamptz,
    wake_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires IS NOT NULL)),
    CHECK ((state = 'running') OR (lease_owner IS NULL AND lease_expires IS NULL)),
    CHECK ((state = 'parked') = (wake_at IS NOT NULL)),
    CHECK ((state IN ('queued', 'running', 'parked')) = (ready_at IS NOT NULL))
);

-- The leasable jobs in the order they are handed out.
CREATE INDEX jobs_ready ON trusthub.jobs (ready_at, id)
    WHERE state IN ('queued', 'running', 'parked');
CREATE INDEX jobs_failed ON trusthub.jobs (finished_at, id) WHERE state = 'failed';

-- Who owns which SID at Twilio: every SID a job's journal holds, and every SID a job's lookup
-- claimed. The first owner stays the owner (a lookup never takes another job's resource).
CREATE TABLE trusthub.owned_sids (
    sid text PRIMARY KEY,
    job bigint NOT NULL REFERENCES trusthub.jobs (id) ON DELETE CASCADE,
    claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX owned_sids_job ON trusthub.owned_sids (job);

-- The open intents of every job's journal (the creates sent whose SID is not recorded yet), with
-- their criteria (a keyed digest): how many other jobs' lost creates may match a lookup.
CREATE TABLE trusthub.intents (
    job bigint NOT NULL REFERENCES trusthub.jobs (id) ON DELETE CASCADE,
    key text NOT NULL,
    criteria text,
    PRIMARY KEY (job, key)
);
CREATE INDEX intents_criteria ON trusthub.intents (key, criteria) WHERE criteria IS NOT NULL;
