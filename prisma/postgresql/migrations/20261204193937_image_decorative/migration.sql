-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "decorative" BOOLEAN NOT NULL DEFAULT false;
