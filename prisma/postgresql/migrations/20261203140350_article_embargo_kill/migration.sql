-- AlterTable
ALTER TABLE "AuditEntry" ADD COLUMN     "reason" TEXT;

-- CreateTable
CREATE TABLE "ArticleEmbargo" (
    "articleId" TEXT NOT NULL,
    "until" TIMESTAMP(3) NOT NULL,
    "note" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ArticleEmbargo_pkey" PRIMARY KEY ("articleId")
);

-- CreateTable
CREATE TABLE "ArticleKill" (
    "articleId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "killedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ArticleKill_pkey" PRIMARY KEY ("articleId")
);

-- CreateIndex
CREATE INDEX "ArticleEmbargo_until_idx" ON "ArticleEmbargo"("until");

-- AddForeignKey
ALTER TABLE "ArticleEmbargo" ADD CONSTRAINT "ArticleEmbargo_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArticleKill" ADD CONSTRAINT "ArticleKill_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;
