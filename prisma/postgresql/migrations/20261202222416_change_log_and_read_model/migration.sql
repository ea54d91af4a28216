-- CreateTable
CREATE TABLE "ChangeSequence" (
    "id" INTEGER NOT NULL,
    "value" BIGINT NOT NULL,

    CONSTRAINT "ChangeSequence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Change" (
    "seq" BIGINT NOT NULL,
    "objectType" TEXT NOT NULL,
    "objectId" TEXT,
    "action" TEXT NOT NULL,
    "version" INTEGER,
    "keyId" TEXT,
    "keyName" TEXT NOT NULL,
    "publicChange" BOOLEAN NOT NULL,
    "purgeKeys" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Change_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "PublicArticle" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "publishedAt" TIMESTAMP(3) NOT NULL,
    "version" INTEGER NOT NULL,
    "document" TEXT NOT NULL,
    "etag" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "purgeKeys" TEXT NOT NULL,

    CONSTRAINT "PublicArticle_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReadModelState" (
    "id" INTEGER NOT NULL,
    "fingerprint" TEXT NOT NULL,

    CONSTRAINT "ReadModelState_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Change_publicChange_seq_idx" ON "Change"("publicChange", "seq");

-- CreateIndex
CREATE INDEX "Change_objectType_objectId_seq_idx" ON "Change"("objectType", "objectId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "PublicArticle_slug_key" ON "PublicArticle"("slug");

-- CreateIndex
CREATE INDEX "PublicArticle_publishedAt_id_idx" ON "PublicArticle"("publishedAt", "id");


-- The change sequence starts where the content generation stands, so sequence numbers and
-- generations never go back (the generation now holds the sequence number of the latest public change).
INSERT INTO "ChangeSequence" ("id", "value") SELECT 1, "value" FROM "ContentGeneration" WHERE "id" = 1;
-- Filled by the server on its first start (src/read-model/), which renders every published article.
INSERT INTO "ReadModelState" ("id", "fingerprint") VALUES (1, '');
