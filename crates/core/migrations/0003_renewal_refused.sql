-- Whether the last renewal failed because the server refused the credential
-- it renews with (refresh token revoked, expired or reused): the current token
-- may then be refused too and is no longer handed out until the user logs in.
ALTER TABLE renewals ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
