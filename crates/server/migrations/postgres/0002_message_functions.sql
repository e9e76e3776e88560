-- The two hot writes, 1:1 and group messages, as server-side functions: the node calls one
-- with a single SELECT in autocommit, so a message costs one round trip instead of a
-- transaction of 8–10 statements, and its row locks are held only while the function runs
-- (not across round trips to the node). A function call is atomic: an error rolls back
-- everything it did, the `sent` claim included.
--
-- Refusals are raised with Hongyan's own SQLSTATEs (class HY is not used by PostgreSQL),
-- which the backend maps back to StoreError (crates/server/src/store/postgres/mod.rs):
--   HY101  not friends / not a member of the group  → StoreError::NotAllowed
--   HY107  no such user                             → StoreError::NoSuchUser
--
-- Same semantics as the statement-by-statement transactions they replace:
-- - claim (from, fp) in `sent` first: a concurrent duplicate (another node, a resend) blocks
--   on that row until the first commits, then answers with its seq/sm (each statement of a
--   VOLATILE function takes a fresh snapshot, so the committed row is seen);
-- - `users` row locks (the seq counters) in id order, so crossing writers cannot deadlock;
-- - for a group, its row is share-locked before the members are read, then the members'
--   user rows are locked in id order.

-- 1:1 message. Returns (is_duplicate, seq, sm): the recipient's seq and the accept time, of
-- this message or, for a duplicate, of the original.
CREATE FUNCTION hongyan_store_chat(
    p_from BIGINT,
    p_to BIGINT,
    p_fp TEXT,
    p_typeu INTEGER,
    p_content TEXT,
    p_sm BIGINT,
    p_friends_only BOOLEAN,
    OUT is_duplicate BOOLEAN,
    OUT msg_seq BIGINT,
    OUT msg_sm BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    low_seq BIGINT;
    high_seq BIGINT;
    own_seq BIGINT;
BEGIN
    INSERT INTO sent (from_id, fp, seq, sm) VALUES (p_from, p_fp, 0, 0)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT s.seq, s.sm INTO msg_seq, msg_sm
            FROM sent s WHERE s.from_id = p_from AND s.fp = p_fp;
        is_duplicate := TRUE;
        RETURN;
    END IF;
    is_duplicate := FALSE;
    IF p_friends_only AND p_to <> p_from AND NOT EXISTS (
        SELECT 1 FROM friends f WHERE f.user_id = p_from AND f.friend_id = p_to
    ) THEN
        -- Only on this failure path: tell a missing recipient from a stranger.
        IF EXISTS (SELECT 1 FROM users u WHERE u.id = p_to) THEN
            RAISE EXCEPTION 'not friends' USING ERRCODE = 'HY101';
        END IF;
        RAISE EXCEPTION 'no such user' USING ERRCODE = 'HY107';
    END IF;
    -- Row locks in id order, so a→b and b→a at once cannot deadlock.
    UPDATE users u SET last_seq = u.last_seq + 1 WHERE u.id = LEAST(p_from, p_to)
        RETURNING u.last_seq INTO low_seq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such user' USING ERRCODE = 'HY107';
    END IF;
    IF p_to = p_from THEN
        msg_seq := low_seq;
    ELSE
        UPDATE users u SET last_seq = u.last_seq + 1 WHERE u.id = GREATEST(p_from, p_to)
            RETURNING u.last_seq INTO high_seq;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no such user' USING ERRCODE = 'HY107';
        END IF;
        IF p_from < p_to THEN
            own_seq := low_seq;
            msg_seq := high_seq;
        ELSE
            msg_seq := low_seq;
            own_seq := high_seq;
        END IF;
    END IF;
    msg_sm := p_sm;
    INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
        VALUES (p_to, msg_seq, p_fp, p_from, p_to::TEXT, p_typeu, p_content, p_sm);
    -- The sender's own copy (not for a note to self).
    IF own_seq IS NOT NULL THEN
        INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
            VALUES (p_from, own_seq, p_fp, p_from, p_to::TEXT, p_typeu, p_content, p_sm);
    END IF;
    UPDATE sent s SET seq = msg_seq, sm = p_sm WHERE s.from_id = p_from AND s.fp = p_fp;
END;
$$;

-- Group message: one mailbox row per member at that member's next seq, all referencing one
-- stored body; `p_to` is the group's wire id (the rows' to_id). Returns (is_duplicate, seq,
-- sm, members, seqs): the sender's own seq (0 if it has no copy), the accept time, and the
-- copies as parallel arrays by member id (empty for a duplicate).
CREATE FUNCTION hongyan_store_group_chat(
    p_from BIGINT,
    p_group BIGINT,
    p_to TEXT,
    p_fp TEXT,
    p_typeu INTEGER,
    p_content TEXT,
    p_sm BIGINT,
    OUT is_duplicate BOOLEAN,
    OUT msg_seq BIGINT,
    OUT msg_sm BIGINT,
    OUT members BIGINT[],
    OUT seqs BIGINT[]
) LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
    body BIGINT;
BEGIN
    members := '{}';
    seqs := '{}';
    INSERT INTO sent (from_id, fp, seq, sm) VALUES (p_from, p_fp, 0, 0)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT s.seq, s.sm INTO msg_seq, msg_sm
            FROM sent s WHERE s.from_id = p_from AND s.fp = p_fp;
        is_duplicate := TRUE;
        RETURN;
    END IF;
    is_duplicate := FALSE;
    -- The group row first (shared: other messages may fan out at once, but the members
    -- cannot change meanwhile), then the member rows in id order.
    PERFORM 1 FROM chat_groups g WHERE g.id = p_group FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such group' USING ERRCODE = 'HY101';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM group_members m WHERE m.group_id = p_group AND m.user_id = p_from
    ) THEN
        RAISE EXCEPTION 'not a member' USING ERRCODE = 'HY101';
    END IF;
    -- ORDER BY is applied before the locking clause: the locks are taken in id order.
    SELECT COALESCE(array_agg(l.id ORDER BY l.id), '{}') INTO ids FROM (
        SELECT u.id FROM users u
        WHERE u.id IN (SELECT m.user_id FROM group_members m WHERE m.group_id = p_group)
        ORDER BY u.id FOR NO KEY UPDATE OF u
    ) l;
    msg_sm := p_sm;
    msg_seq := 0;
    IF cardinality(ids) = 0 THEN
        UPDATE sent s SET seq = 0, sm = p_sm WHERE s.from_id = p_from AND s.fp = p_fp;
        RETURN;
    END IF;
    INSERT INTO bodies (content) VALUES (p_content) RETURNING id INTO body;
    WITH bumped AS (
        UPDATE users u SET last_seq = u.last_seq + 1 WHERE u.id = ANY(ids)
        RETURNING u.id, u.last_seq
    )
    SELECT array_agg(b.id ORDER BY b.id), array_agg(b.last_seq ORDER BY b.id)
        INTO members, seqs FROM bumped b;
    INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm, body_id)
        SELECT c.user_id, c.seq, p_fp, p_from, p_to, p_typeu, '', p_sm, body
        FROM unnest(members, seqs) AS c(user_id, seq);
    SELECT COALESCE(MAX(c.seq), 0) INTO msg_seq
        FROM unnest(members, seqs) AS c(user_id, seq) WHERE c.user_id = p_from;
    UPDATE sent s SET seq = msg_seq, sm = p_sm WHERE s.from_id = p_from AND s.fp = p_fp;
END;
$$;
