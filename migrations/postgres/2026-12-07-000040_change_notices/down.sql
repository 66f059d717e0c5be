DROP TRIGGER change_log_announced ON change_log;
DROP FUNCTION portcullis_announce_change();
