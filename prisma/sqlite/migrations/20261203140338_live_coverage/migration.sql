-- CreateTable
CREATE TABLE "LiveCoverage" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "articleId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'upcoming',
    "startsAt" DATETIME,
    "endsAt" DATETIME,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "LiveCoverage_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveEntry" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "coverageId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "headline" TEXT,
    "body" JSONB NOT NULL,
    "bodyText" TEXT NOT NULL,
    "authorId" TEXT,
    "postedAt" DATETIME NOT NULL,
    "editedAt" DATETIME,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "keyEvent" BOOLEAN NOT NULL DEFAULT false,
    "correction" TEXT,
    "correctedAt" DATETIME,
    "brokenOutArticleId" TEXT,
    "deletedAt" DATETIME,
    "document" TEXT NOT NULL,
    CONSTRAINT "LiveEntry_coverageId_fkey" FOREIGN KEY ("coverageId") REFERENCES "LiveCoverage" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "LiveCoverage_articleId_key" ON "LiveCoverage"("articleId");

-- CreateIndex
CREATE INDEX "LiveEntry_coverageId_postedAt_id_idx" ON "LiveEntry"("coverageId", "postedAt" DESC, "id");

-- CreateIndex
CREATE UNIQUE INDEX "LiveEntry_coverageId_revision_key" ON "LiveEntry"("coverageId", "revision");
