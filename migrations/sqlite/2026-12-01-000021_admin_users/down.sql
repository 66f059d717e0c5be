DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
DROP TABLE user_admin_roles;
