-- When the platform plan last went from paid to free. Live keys keep metering for a grace
-- period after it (shared::plan), then pause until the plan is paid again; test keys never
-- pause. NULL while paid, and for a platform that never paid.
ALTER TABLE platforms ADD COLUMN planEndedAt TEXT;
