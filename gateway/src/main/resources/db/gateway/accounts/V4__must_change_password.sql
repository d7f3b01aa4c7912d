-- True while a user's password is one Sonia generated (the first admin's) and the user has not chosen another.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
