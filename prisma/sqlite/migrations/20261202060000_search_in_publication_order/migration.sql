-- Search documents are filed in publication order: rowid = publication time in milliseconds × 1000
-- + a sequence number (drafts without a time: their last change), as src/search/documents.ts files
-- new ones. The newest matches of a query are then a rowid range, and src/search/service.ts ranks
-- relevance among them without scoring every match of a very common word. More than a thousand
-- articles in one millisecond (a bulk import) are filed below every possible date (-8.64e18).
DELETE FROM "article_search";

INSERT INTO "article_search" (rowid, "article_id", "published_at", "headline", "dek", "body", "authors", "facets")
SELECT CASE WHEN f."n" < 1000 THEN f."ms" * 1000 + f."n" ELSE -9000000000000000000 + f."overall" END,
       f."id",
       CASE WHEN f."publishedAt" IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', f."publishedAt") END,
       f."headline", coalesce(f."dek", ''), f."bodyText",
       coalesce((SELECT group_concat(au."name", ' ') FROM "Byline" b JOIN "Author" au ON au."id" = b."authorId" WHERE b."articleId" = f."id"), ''),
       trim(
         CASE WHEN f."status" = 'published' THEN '' ELSE 'status_unpublished ' END ||
         CASE WHEN f."sectionId" IS NULL THEN '' ELSE 'section_' || replace(f."sectionId", '-', '') || ' ' END ||
         coalesce((SELECT group_concat('tag_' || replace(t."tagId", '-', ''), ' ') FROM "ArticleTag" t WHERE t."articleId" = f."id"), '') || ' ' ||
         coalesce((SELECT group_concat('author_' || replace(b."authorId", '-', ''), ' ') FROM "Byline" b WHERE b."articleId" = f."id"), '')
       )
FROM (
  SELECT a.*, CAST(round((julianday(coalesce(a."publishedAt", a."updatedAt")) - 2440587.5) * 86400000) AS INTEGER) AS "ms",
         row_number() OVER (PARTITION BY CAST(round((julianday(coalesce(a."publishedAt", a."updatedAt")) - 2440587.5) * 86400000) AS INTEGER) ORDER BY a."id") - 1 AS "n",
         row_number() OVER (ORDER BY a."id") AS "overall"
  FROM "Article" a
) f;

-- One b-tree instead of the dozens a bulk fill leaves: lookups touch each one (src/plugins/background.ts keeps it so).
INSERT INTO "article_search" ("article_search") VALUES ('optimize');
