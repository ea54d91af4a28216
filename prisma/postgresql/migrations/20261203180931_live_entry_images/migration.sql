-- CreateTable
CREATE TABLE "LiveEntryImage" (
    "entryId" TEXT NOT NULL,
    "imageId" TEXT NOT NULL,

    CONSTRAINT "LiveEntryImage_pkey" PRIMARY KEY ("entryId","imageId")
);

-- CreateIndex
CREATE INDEX "LiveEntryImage_imageId_idx" ON "LiveEntryImage"("imageId");

-- AddForeignKey
ALTER TABLE "LiveEntryImage" ADD CONSTRAINT "LiveEntryImage_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "LiveEntry"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveEntryImage" ADD CONSTRAINT "LiveEntryImage_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Links for the entries posted before this table existed (their images become public with their coverage).
INSERT INTO "LiveEntryImage" ("entryId", "imageId")
SELECT DISTINCT "entry"."id", "block"->>'imageId'
FROM "LiveEntry" AS "entry", jsonb_array_elements("entry"."body") AS "block"
WHERE "entry"."deletedAt" IS NULL AND "block"->>'type' = 'image'
  AND EXISTS (SELECT 1 FROM "Image" WHERE "Image"."id" = "block"->>'imageId');
