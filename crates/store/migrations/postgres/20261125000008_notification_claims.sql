-- The alerting lease term that claimed a notification for sending (postgres). Keep in step with
-- ../sqlite/ of the same name.
-- A claim holds an entry for a while so one sender has it; when the lease passes to a new term
-- (its holder died mid-send), the new holder takes over claims of older terms at once instead of
-- waiting the hold out. 0: not claimed (new, or waiting for a retry after a failure).
ALTER TABLE notification_log ADD COLUMN claimed_token BIGINT NOT NULL DEFAULT 0;
