-- CreateTable
CREATE TABLE "LiveCoverage" (
    "id" TEXT NOT NULL,
    "articleId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'upcoming',
    "startsAt" TIMESTAMP(3),
    "endsAt" TIMESTAMP(3),
    "revision" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LiveCoverage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveEntry" (
    "id" TEXT NOT NULL,
    "coverageId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "headline" TEXT,
    "body" JSONB NOT NULL,
    "bodyText" TEXT NOT NULL,
    "authorId" TEXT,
    "postedAt" TIMESTAMP(3) NOT NULL,
    "editedAt" TIMESTAMP(3),
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "keyEvent" BOOLEAN NOT NULL DEFAULT false,
    "correction" TEXT,
    "correctedAt" TIMESTAMP(3),
    "brokenOutArticleId" TEXT,
    "deletedAt" TIMESTAMP(3),
    "document" TEXT NOT NULL,

    CONSTRAINT "LiveEntry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LiveCoverage_articleId_key" ON "LiveCoverage"("articleId");

-- CreateIndex
CREATE INDEX "LiveEntry_coverageId_postedAt_id_idx" ON "LiveEntry"("coverageId", "postedAt" DESC, "id");

-- CreateIndex
CREATE UNIQUE INDEX "LiveEntry_coverageId_revision_key" ON "LiveEntry"("coverageId", "revision");

-- AddForeignKey
ALTER TABLE "LiveCoverage" ADD CONSTRAINT "LiveCoverage_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveEntry" ADD CONSTRAINT "LiveEntry_coverageId_fkey" FOREIGN KEY ("coverageId") REFERENCES "LiveCoverage"("id") ON DELETE CASCADE ON UPDATE CASCADE;
