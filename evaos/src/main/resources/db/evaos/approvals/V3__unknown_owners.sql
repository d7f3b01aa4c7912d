-- An approval is its requester's. Rows from before tenants carry the placeholder requester 'local', whose
-- owner is not known: their requester becomes empty, which no principal is. An admin of the tenant still sees
-- them; no plain user does, and their grants allow nobody's action.
UPDATE approvals SET requester = '' WHERE requester = 'local';
