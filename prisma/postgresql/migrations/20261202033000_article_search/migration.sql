-- Full-text search over published journalism (src/search): a weighted tsvector (headline A, dek and
-- authors B, body C) with a GIN index. Filters join the article (PostgreSQL plans that well).
-- Kept in sync by the application in each write's transaction. Not a Prisma model (Prisma cannot
-- index a generated tsvector): raw SQL here and in src/search.
CREATE TABLE "article_search" (
    "article_id" TEXT NOT NULL PRIMARY KEY REFERENCES "Article"("id") ON DELETE CASCADE,
    "published_at" TEXT,
    "headline" TEXT NOT NULL,
    "dek" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "authors" TEXT NOT NULL,
    "facets" TEXT NOT NULL,
    "document" tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', "headline"), 'A') ||
        setweight(to_tsvector('english', "dek"), 'B') ||
        setweight(to_tsvector('english', "authors"), 'B') ||
        setweight(to_tsvector('english', "body"), 'C')
    ) STORED
);

CREATE INDEX "article_search_document_idx" ON "article_search" USING GIN ("document");

INSERT INTO "article_search" ("article_id", "published_at", "headline", "dek", "body", "authors", "facets")
SELECT a."id", to_char(a."publishedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), a."headline", coalesce(a."dek", ''), a."bodyText",
       coalesce((SELECT string_agg(au."name", ' ' ORDER BY b."position") FROM "Byline" b JOIN "Author" au ON au."id" = b."authorId" WHERE b."articleId" = a."id"), ''),
       ''
FROM "Article" a;
