-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Author" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sortName" TEXT NOT NULL DEFAULT '',
    "jobTitle" TEXT,
    "bio" TEXT,
    "email" TEXT,
    "avatarImageId" TEXT,
    "links" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Author_avatarImageId_fkey" FOREIGN KEY ("avatarImageId") REFERENCES "Image" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Author" ("avatarImageId", "bio", "createdAt", "email", "id", "jobTitle", "links", "name", "slug", "updatedAt") SELECT "avatarImageId", "bio", "createdAt", "email", "id", "jobTitle", "links", "name", "slug", "updatedAt" FROM "Author";
DROP TABLE "Author";
ALTER TABLE "new_Author" RENAME TO "Author";
CREATE UNIQUE INDEX "Author_slug_key" ON "Author"("slug");
CREATE INDEX "Author_sortName_id_idx" ON "Author"("sortName", "id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

