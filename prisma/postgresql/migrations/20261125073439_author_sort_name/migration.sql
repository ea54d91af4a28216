-- DropIndex
DROP INDEX "Author_name_idx";

-- AlterTable
ALTER TABLE "Author" ADD COLUMN     "sortName" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE INDEX "Author_sortName_id_idx" ON "Author"("sortName", "id");

