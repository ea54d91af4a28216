-- Stored public documents besides articles and author pages (the masthead), rendered at the next start
-- (the renderer version in src/read-model/articles.ts moved) and by every change that shows on them.
-- CreateTable
CREATE TABLE "PublicDocument" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "document" TEXT NOT NULL,
    "etag" TEXT NOT NULL,
    "purgeKeys" TEXT NOT NULL
);
