-- The search document of an article is found by its position, not by scanning the full-text table.
-- CreateTable
CREATE TABLE "SearchPosition" (
    "articleId" TEXT NOT NULL PRIMARY KEY,
    "position" BIGINT NOT NULL
);

-- Where each article's search document is filed today (src/search/documents.ts keeps it from now on).
INSERT INTO "SearchPosition" ("articleId", "position") SELECT "article_id", rowid FROM "article_search";
