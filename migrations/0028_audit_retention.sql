-- The audit log is kept for `maintenance::AUDIT_LOG_DAYS` (13 months), then deleted by the
-- daily cron, so one busy organization cannot grow the shared database without bound. The job
-- reads only the entries it retires.
CREATE INDEX audit_log_by_age ON audit_log (createdAt);
