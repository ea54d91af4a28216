-- Search documents are filed in publication order: "rowid" = publication time in milliseconds × 1000
-- + a sequence number (drafts without a time: their last change), as src/search/documents.ts files
-- new ones (the same statements run on SQLite, where rowid is the FTS5 table's own). The newest
-- matches of a query are then an index range, and src/search/service.ts ranks relevance among them
-- without scoring every match of a very common word. More than a thousand articles in one
-- millisecond (a bulk import) are filed below every possible date (-8.64e18). Not unique: two
-- transactions filing documents of the same millisecond at once may pick the same number.
DELETE FROM "article_search";

-- The default (now, in microseconds) lets instances still running the previous release keep writing
-- during a rolling deploy (this release always sets the position itself).
ALTER TABLE "article_search" ADD COLUMN "rowid" BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;

CREATE INDEX "article_search_rowid_idx" ON "article_search" ("rowid");

INSERT INTO "article_search" ("rowid", "article_id", "published_at", "headline", "dek", "body", "authors", "facets")
SELECT CASE WHEN f."n" < 1000 THEN f."ms" * 1000 + f."n" ELSE -9000000000000000000 + f."overall" END,
       f."id", to_char(f."publishedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), f."headline", coalesce(f."dek", ''), f."bodyText",
       coalesce((SELECT string_agg(au."name", ' ' ORDER BY b."position") FROM "Byline" b JOIN "Author" au ON au."id" = b."authorId" WHERE b."articleId" = f."id"), ''),
       ''
FROM (
  SELECT a.*, round(extract(epoch FROM coalesce(a."publishedAt", a."updatedAt")) * 1000)::bigint AS "ms",
         row_number() OVER (PARTITION BY coalesce(a."publishedAt", a."updatedAt") ORDER BY a."id") - 1 AS "n",
         row_number() OVER (ORDER BY a."id") AS "overall"
  FROM "Article" a
) f;
