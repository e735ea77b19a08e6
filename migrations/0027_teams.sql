-- Teams (issue 28): a platform belongs to an organization of members, each with one role; an
-- owner invites people by email; every change is recorded in the audit log.
-- Access is decided here, on every request (a removed member is locked out at once, whatever
-- their session token still says); the Clerk organization mirrors it and sends invitations.

-- The Clerk organization of the platform, made when its owner first invites someone.
ALTER TABLE platforms ADD COLUMN clerkOrgId TEXT;
CREATE UNIQUE INDEX platforms_by_clerk_org ON platforms (clerkOrgId) WHERE clerkOrgId IS NOT NULL;

CREATE TABLE platform_members (
    platformId  TEXT NOT NULL REFERENCES platforms (platformId),
    clerkUserId TEXT NOT NULL,
    -- As the session token said when the member last signed in (for the members list).
    email       TEXT,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    createdAt   TEXT NOT NULL,
    updatedAt   TEXT NOT NULL,
    PRIMARY KEY (platformId, clerkUserId)
);
-- Which platforms a signed-in user may open (every dashboard request reads it).
CREATE INDEX platform_members_by_user ON platform_members (clerkUserId, createdAt);

-- Existing platforms become one-member organizations owned by the developer who made them.
INSERT INTO platform_members (platformId, clerkUserId, role, createdAt, updatedAt)
SELECT platformId, clerkUserId, 'owner', createdAt, createdAt FROM platforms;

CREATE TABLE team_invitations (
    invitationId      TEXT PRIMARY KEY CHECK (invitationId LIKE 'inv\_%' ESCAPE '\'),
    platformId        TEXT NOT NULL REFERENCES platforms (platformId),
    email             TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'revoked')),
    clerkInvitationId TEXT,
    invitedBy         TEXT NOT NULL,
    acceptedBy        TEXT,
    expiresAt         TEXT NOT NULL,
    createdAt         TEXT NOT NULL,
    updatedAt         TEXT NOT NULL
);
-- One pending invitation per email and organization.
CREATE UNIQUE INDEX team_invitations_pending ON team_invitations (platformId, email) WHERE status = 'pending';
CREATE INDEX team_invitations_by_platform ON team_invitations (platformId, createdAt);

-- Every change made through the dashboard's workers, written in the same D1 batch as the
-- change itself. `changes_json` holds before and after, never a secret.
CREATE TABLE audit_log (
    auditId        INTEGER PRIMARY KEY AUTOINCREMENT,
    platformId     TEXT NOT NULL,
    -- A Clerk user id, or `operator` for the platform's staff.
    actorId        TEXT NOT NULL,
    actorEmail     TEXT,
    actorRole      TEXT,
    action         TEXT NOT NULL,
    publishableKey TEXT,
    mode           TEXT CHECK (mode IN ('test', 'live')),
    target         TEXT,
    changes_json   TEXT NOT NULL DEFAULT '{}',
    requestId      TEXT NOT NULL,
    createdAt      TEXT NOT NULL
);
CREATE INDEX audit_log_by_platform ON audit_log (platformId, auditId);

-- Exports page through a project's rows in key order.
CREATE INDEX subscriptions_by_project_id ON subscriptions (publishableKey, subscriptionId);
CREATE INDEX orders_by_project_id ON orders (publishableKey, orderId);
