-- AlterTable
ALTER TABLE "AuditEntry" ADD COLUMN "reason" TEXT;

-- CreateTable
CREATE TABLE "ArticleEmbargo" (
    "articleId" TEXT NOT NULL PRIMARY KEY,
    "until" DATETIME NOT NULL,
    "note" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ArticleEmbargo_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ArticleKill" (
    "articleId" TEXT NOT NULL PRIMARY KEY,
    "reason" TEXT NOT NULL,
    "killedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ArticleKill_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "ArticleEmbargo_until_idx" ON "ArticleEmbargo"("until");
