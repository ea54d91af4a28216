-- CreateTable
CREATE TABLE "PublicAuthor" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "slug" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "etag" TEXT NOT NULL,
    "purgeKeys" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "PublicAuthor_slug_key" ON "PublicAuthor"("slug");
