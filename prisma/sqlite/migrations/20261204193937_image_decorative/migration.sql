-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Image" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "storageKey" TEXT,
    "contentHash" TEXT,
    "url" TEXT,
    "mimeType" TEXT NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "bytes" INTEGER,
    "altText" TEXT NOT NULL,
    "decorative" BOOLEAN NOT NULL DEFAULT false,
    "caption" TEXT,
    "credit" TEXT,
    "photographer" TEXT,
    "agency" TEXT,
    "distributor" TEXT,
    "copyright" TEXT,
    "source" TEXT,
    "focalX" REAL,
    "focalY" REAL,
    "placeholderColor" TEXT,
    "placeholderDataUri" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Image" ("agency", "altText", "bytes", "caption", "contentHash", "copyright", "createdAt", "credit", "distributor", "focalX", "focalY", "height", "id", "mimeType", "photographer", "placeholderColor", "placeholderDataUri", "source", "storageKey", "updatedAt", "url", "width") SELECT "agency", "altText", "bytes", "caption", "contentHash", "copyright", "createdAt", "credit", "distributor", "focalX", "focalY", "height", "id", "mimeType", "photographer", "placeholderColor", "placeholderDataUri", "source", "storageKey", "updatedAt", "url", "width" FROM "Image";
DROP TABLE "Image";
ALTER TABLE "new_Image" RENAME TO "Image";
CREATE UNIQUE INDEX "Image_storageKey_key" ON "Image"("storageKey");
CREATE UNIQUE INDEX "Image_contentHash_key" ON "Image"("contentHash");
CREATE INDEX "Image_createdAt_idx" ON "Image"("createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
