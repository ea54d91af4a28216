-- Full-text search over published journalism (src/search): FTS5 with Porter stemming and
-- accent-insensitive matching. `facets` holds filter tokens (unpublished, section, tag and author
-- ids) so filters are answered by the index itself. Kept in sync by the application in each write's
-- transaction. Not a Prisma model (Prisma cannot describe virtual tables): raw SQL here and in src/search.
CREATE VIRTUAL TABLE "article_search" USING fts5(
    "article_id" UNINDEXED,
    "published_at" UNINDEXED,
    "headline",
    "dek",
    "body",
    "authors",
    "facets",
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO "article_search" ("article_id", "published_at", "headline", "dek", "body", "authors", "facets")
SELECT a."id",
       CASE WHEN a."publishedAt" IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', a."publishedAt") END,
       a."headline", coalesce(a."dek", ''), a."bodyText",
       coalesce((SELECT group_concat(au."name", ' ') FROM "Byline" b JOIN "Author" au ON au."id" = b."authorId" WHERE b."articleId" = a."id"), ''),
       trim(
         CASE WHEN a."status" = 'published' THEN '' ELSE 'status_unpublished ' END ||
         CASE WHEN a."sectionId" IS NULL THEN '' ELSE 'section_' || replace(a."sectionId", '-', '') || ' ' END ||
         coalesce((SELECT group_concat('tag_' || replace(t."tagId", '-', ''), ' ') FROM "ArticleTag" t WHERE t."articleId" = a."id"), '') || ' ' ||
         coalesce((SELECT group_concat('author_' || replace(b."authorId", '-', ''), ' ') FROM "Byline" b WHERE b."articleId" = a."id"), '')
       )
FROM "Article" a;
