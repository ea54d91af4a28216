-- CreateTable
CREATE TABLE "PublicAuthor" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "etag" TEXT NOT NULL,
    "purgeKeys" TEXT NOT NULL,

    CONSTRAINT "PublicAuthor_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PublicAuthor_slug_key" ON "PublicAuthor"("slug");
