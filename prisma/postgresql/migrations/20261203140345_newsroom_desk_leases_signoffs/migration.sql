-- CreateTable
CREATE TABLE "ArticleLease" (
    "articleId" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "keyName" TEXT NOT NULL,
    "acquiredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ArticleLease_pkey" PRIMARY KEY ("articleId")
);

-- CreateTable
CREATE TABLE "ArticleView" (
    "articleId" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "keyName" TEXT NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ArticleView_pkey" PRIMARY KEY ("articleId","keyId")
);

-- CreateTable
CREATE TABLE "ArticleSignoff" (
    "id" TEXT NOT NULL,
    "articleId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "keyId" TEXT,
    "keyName" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ArticleSignoff_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ArticleView_articleId_lastSeenAt_idx" ON "ArticleView"("articleId", "lastSeenAt");

-- CreateIndex
CREATE UNIQUE INDEX "ArticleSignoff_articleId_kind_version_key" ON "ArticleSignoff"("articleId", "kind", "version");

-- AddForeignKey
ALTER TABLE "ArticleLease" ADD CONSTRAINT "ArticleLease_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArticleView" ADD CONSTRAINT "ArticleView_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArticleSignoff" ADD CONSTRAINT "ArticleSignoff_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;
