-- CreateTable
CREATE TABLE "LiveEntryImage" (
    "entryId" TEXT NOT NULL,
    "imageId" TEXT NOT NULL,

    PRIMARY KEY ("entryId", "imageId"),
    CONSTRAINT "LiveEntryImage_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "LiveEntry" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "LiveEntryImage_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "LiveEntryImage_imageId_idx" ON "LiveEntryImage"("imageId");

-- Links for the entries posted before this table existed (their images become public with their coverage).
INSERT INTO "LiveEntryImage" ("entryId", "imageId")
SELECT DISTINCT "entry"."id", json_extract("block"."value", '$.imageId')
FROM "LiveEntry" AS "entry", json_each("entry"."body") AS "block"
WHERE "entry"."deletedAt" IS NULL AND json_extract("block"."value", '$.type') = 'image'
  AND json_extract("block"."value", '$.imageId') IN (SELECT "id" FROM "Image");
