-- AlterTable
ALTER TABLE "Image" ADD COLUMN "contentHash" TEXT;
ALTER TABLE "Image" ADD COLUMN "focalX" REAL;
ALTER TABLE "Image" ADD COLUMN "focalY" REAL;
ALTER TABLE "Image" ADD COLUMN "placeholderColor" TEXT;
ALTER TABLE "Image" ADD COLUMN "placeholderDataUri" TEXT;
ALTER TABLE "Image" ADD COLUMN "source" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Image_contentHash_key" ON "Image"("contentHash");
