-- Stored data kept exactly, and appends that need nothing of the session.
--
-- 1. JSON columns become `json`, which keeps the text it is given. `jsonb` keeps numbers as
--    `numeric`, which has no negative zero (-0.0 came back as 0) and prints without exponents
--    (so a number as large as f64::MAX came back as 309 digits, and lesser readers failed on
--    it). `json` still supports `->`, `->>` and the other accessors; cast to `jsonb` for
--    containment queries. aggregato_append takes payloads and metadata as text, cast to `json`
--    unchanged.
-- 2. A stream holds the events of one aggregate type: an append of another type raises
--    SQLSTATE 'AG002' with the stream's type as DETAIL, and stores nothing.
-- 3. The append's checks rest on READ COMMITTED: each statement sees what committed before the
--    append lock was granted. Under a server or session default of REPEATABLE READ or
--    SERIALIZABLE the transaction's snapshot would predate the lock, and concurrent appends
--    would fail; so the function raises SQLSTATE 'AG003' there, before doing anything, and the
--    store runs the call again inside `BEGIN ISOLATION LEVEL READ COMMITTED`.
DROP FUNCTION aggregato_append(TEXT, TEXT, BIGINT, UUID[], TEXT[], TEXT[], BIGINT[], JSONB[], JSONB[]);

ALTER TABLE aggregato_events
    ALTER COLUMN metadata TYPE JSON USING metadata::json,
    ALTER COLUMN payload TYPE JSON USING payload::json;

ALTER TABLE aggregato_snapshots
    ALTER COLUMN payload TYPE JSON USING payload::json;

CREATE FUNCTION aggregato_append(
    p_stream           TEXT,
    p_expected         TEXT,
    p_expected_version BIGINT,
    p_event_ids        UUID[],
    p_aggregate_types  TEXT[],
    p_event_types      TEXT[],
    p_event_versions   BIGINT[],
    p_metadata         TEXT[],
    p_payloads         TEXT[]
) RETURNS TABLE (
    r_position       BIGINT,
    r_event_id       UUID,
    r_stream_id      TEXT,
    r_version        BIGINT,
    r_aggregate_type TEXT,
    r_event_type     TEXT,
    r_event_version  BIGINT,
    r_recorded_at    TIMESTAMPTZ,
    r_repeated       BOOLEAN,
    r_metadata       JSON,
    r_payload        JSON
)
LANGUAGE plpgsql
-- The tables of the schema the function was created in, whatever the caller's search_path.
SET search_path FROM CURRENT
AS $$
DECLARE
    v_head   BIGINT;
    v_last   BIGINT;
    v_actual BIGINT;
    v_fresh  BIGINT;
    v_accepted BOOLEAN;
    v_type   TEXT;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AG003',
            MESSAGE = 'aggregato_append runs at READ COMMITTED only',
            DETAIL = current_setting('transaction_isolation');
    END IF;

    -- The append lock: one appender at a time per events table (the key is the table's oid),
    -- held until commit. Positions are therefore committed in the order they are assigned, and
    -- a reader of "events after position p" never misses a lower position that commits later
    -- (the gap a plain sequence leaves under concurrent transactions). Everything below runs
    -- under it, so the id and version checks see every earlier append.
    PERFORM pg_advisory_xact_lock(1634166642, 'aggregato_events'::regclass::oid::integer);

    IF cardinality(p_event_ids) = 1 THEN
        -- One event, the append of most commands: one index probe, no set to de-duplicate.
        v_fresh := CASE WHEN EXISTS (SELECT 1 FROM aggregato_events e
                                      WHERE e.event_id = p_event_ids[1])
                        THEN 0 ELSE 1 END;
    ELSE
        SELECT count(DISTINCT b.id) INTO v_fresh
          FROM unnest(p_event_ids) AS b(id)
         WHERE NOT EXISTS (SELECT 1 FROM aggregato_events e WHERE e.event_id = b.id);
    END IF;

    -- A batch made only of stored ids repeats an append that happened: no version check.
    IF v_fresh > 0 OR coalesce(cardinality(p_event_ids), 0) = 0 THEN
        SELECT e.version, e.aggregate_type INTO v_actual, v_type
          FROM aggregato_events e WHERE e.stream_id = p_stream
         ORDER BY e.version DESC LIMIT 1;
        v_actual := coalesce(v_actual, 0);
        v_accepted := CASE p_expected
                          WHEN 'any' THEN TRUE
                          WHEN 'no_stream' THEN v_actual = 0
                          WHEN 'stream_exists' THEN v_actual > 0
                          ELSE v_actual = p_expected_version
                      END;
        IF NOT v_accepted THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AG001',
                MESSAGE = format('concurrency conflict on stream %s', p_stream),
                DETAIL = v_actual::text;
        END IF;
        -- The batch is of one aggregate type (the store checks that before calling).
        IF v_type IS NOT NULL AND v_type IS DISTINCT FROM p_aggregate_types[1] THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AG002',
                MESSAGE = format('stream %s holds %s events', p_stream, v_type),
                DETAIL = v_type;
        END IF;
    END IF;

    -- The common case, every id new and distinct: insert the batch as it comes and return
    -- what was inserted, without de-duplicating or joining back (a third of an append's
    -- time in the general path below).
    IF v_fresh > 0 AND v_fresh = cardinality(p_event_ids) THEN
        -- setval writes WAL on every call, nextval only every 32: one event needs no setval.
        IF v_fresh = 1 THEN
            v_last := nextval('aggregato_positions');
        ELSE
            v_last := setval('aggregato_positions',
                             nextval('aggregato_positions') + v_fresh - 1);
        END IF;
        v_head := v_last - v_fresh;
        RETURN QUERY
            WITH inserted AS (
                INSERT INTO aggregato_events
                    (position, event_id, stream_id, version, aggregate_type, event_type,
                     event_version, metadata, payload)
                SELECT v_head + b.ord, b.id, p_stream, v_actual + b.ord, b.agg, b.et, b.ev,
                       b.md::json, b.pl::json
                  FROM unnest(p_event_ids, p_aggregate_types, p_event_types, p_event_versions,
                              p_metadata, p_payloads)
                       WITH ORDINALITY AS b(id, agg, et, ev, md, pl, ord)
                RETURNING aggregato_events.position, aggregato_events.event_id,
                          aggregato_events.stream_id, aggregato_events.version,
                          aggregato_events.aggregate_type, aggregato_events.event_type,
                          aggregato_events.event_version, aggregato_events.recorded_at
            )
            SELECT i.*, FALSE, NULL::JSON, NULL::JSON
              FROM inserted AS i
             ORDER BY i.position;
        PERFORM pg_notify(aggregato_channel(), v_last::text);
        RETURN;
    END IF;

    IF v_fresh > 0 THEN
        -- Reserve positions v_head + 1 ..= v_last (only appenders holding the lock move the
        -- sequence, so this is one block).
        v_last := setval('aggregato_positions', nextval('aggregato_positions') + v_fresh - 1);
        v_head := v_last - v_fresh;
        INSERT INTO aggregato_events
            (position, event_id, stream_id, version, aggregate_type, event_type, event_version,
             metadata, payload)
        SELECT v_head + fresh.n, fresh.id, p_stream, v_actual + fresh.n, fresh.agg, fresh.et,
               fresh.ev, fresh.md::json, fresh.pl::json
          FROM (
            SELECT row_number() OVER (ORDER BY firsts.ord) AS n, firsts.*
              FROM (
                -- The first occurrence of each new id, in batch order.
                SELECT DISTINCT ON (b.id) b.*
                  FROM unnest(p_event_ids, p_aggregate_types, p_event_types, p_event_versions,
                              p_metadata, p_payloads)
                       WITH ORDINALITY AS b(id, agg, et, ev, md, pl, ord)
                 WHERE NOT EXISTS (SELECT 1 FROM aggregato_events e WHERE e.event_id = b.id)
                 ORDER BY b.id, b.ord
              ) AS firsts
          ) AS fresh;
        -- Delivered at commit, to listeners of this schema's channel.
        PERFORM pg_notify(aggregato_channel(), v_last::text);
    END IF;

    -- Events at or below v_head were stored before this call (all of them when it stored
    -- nothing): they come back whole, as first recorded.
    RETURN QUERY
        SELECT e.position, e.event_id, e.stream_id, e.version, e.aggregate_type, e.event_type,
               e.event_version, e.recorded_at, repeated.is_repeated,
               CASE WHEN repeated.is_repeated THEN e.metadata END,
               CASE WHEN repeated.is_repeated THEN e.payload END
          FROM unnest(p_event_ids) WITH ORDINALITY AS b(id, ord)
          JOIN aggregato_events e ON e.event_id = b.id
          CROSS JOIN LATERAL (SELECT v_head IS NULL OR e.position <= v_head AS is_repeated)
                AS repeated
         ORDER BY b.ord;
END
$$;
