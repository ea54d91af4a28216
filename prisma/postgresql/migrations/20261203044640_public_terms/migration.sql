-- The public read model of sections and tags, rendered at the next start (the renderer version in
-- src/read-model/articles.ts moved) and by every change to a term.
-- CreateTable
CREATE TABLE "PublicTerm" (
    "kind" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "etag" TEXT NOT NULL,

    CONSTRAINT "PublicTerm_pkey" PRIMARY KEY ("kind","id")
);

-- CreateIndex
CREATE INDEX "PublicTerm_kind_name_id_idx" ON "PublicTerm"("kind", "name", "id");

-- CreateIndex
CREATE UNIQUE INDEX "PublicTerm_kind_slug_key" ON "PublicTerm"("kind", "slug");
