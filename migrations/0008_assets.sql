-- Uploaded images, one row per R2 object, so each developer's storage has a quota (count and
-- bytes) checked atomically by the statement that reserves a new image before it is written.
CREATE TABLE assets (
    objectKey   TEXT PRIMARY KEY,
    platformId  TEXT NOT NULL REFERENCES platforms (platformId),
    bytes       INTEGER NOT NULL CHECK (bytes > 0),
    contentType TEXT NOT NULL,
    createdAt   TEXT NOT NULL
);
CREATE INDEX assets_by_platform ON assets (platformId, bytes);
