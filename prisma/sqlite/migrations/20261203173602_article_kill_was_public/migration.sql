-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ArticleKill" (
    "articleId" TEXT NOT NULL PRIMARY KEY,
    "reason" TEXT NOT NULL,
    "killedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "wasPublic" BOOLEAN NOT NULL DEFAULT true,
    CONSTRAINT "ArticleKill_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_ArticleKill" ("articleId", "killedAt", "reason") SELECT "articleId", "killedAt", "reason" FROM "ArticleKill";
DROP TABLE "ArticleKill";
ALTER TABLE "new_ArticleKill" RENAME TO "ArticleKill";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
