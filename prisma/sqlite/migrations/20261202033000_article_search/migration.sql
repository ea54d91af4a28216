-- Full-text search over published journalism (src/search): FTS5 with Porter stemming and
-- accent-insensitive matching. Kept in sync by the application in each write's transaction. Not a
-- Prisma model (Prisma cannot describe virtual tables): raw SQL here, raw SQL in src/search.
CREATE VIRTUAL TABLE "article_search" USING fts5(
    "article_id" UNINDEXED,
    "headline",
    "dek",
    "body",
    "authors",
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO "article_search" ("article_id", "headline", "dek", "body", "authors")
SELECT a."id", a."headline", coalesce(a."dek", ''), a."bodyText",
       coalesce((SELECT group_concat(au."name", ' ') FROM "Byline" b JOIN "Author" au ON au."id" = b."authorId" WHERE b."articleId" = a."id"), '')
FROM "Article" a;
