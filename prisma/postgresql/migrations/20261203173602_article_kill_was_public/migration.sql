-- AlterTable
ALTER TABLE "ArticleKill" ADD COLUMN     "wasPublic" BOOLEAN NOT NULL DEFAULT true;
