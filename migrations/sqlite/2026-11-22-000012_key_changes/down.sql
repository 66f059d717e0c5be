DELETE FROM change_log WHERE kind = 'key';
