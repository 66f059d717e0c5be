-- Every instance's change-log follower LISTENs on this channel: a change
-- announces itself as its transaction commits (NOTIFY is delivered at
-- commit, once per channel and payload per transaction), so followers read
-- the log at once instead of at their next poll. Polling stays: a
-- notification sent while a follower reconnects is lost.
CREATE FUNCTION portcullis_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portcullis_change_log', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER change_log_announced AFTER INSERT ON change_log
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_announce_change();
