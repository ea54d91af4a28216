-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "contentHash" TEXT,
ADD COLUMN     "focalX" DOUBLE PRECISION,
ADD COLUMN     "focalY" DOUBLE PRECISION,
ADD COLUMN     "placeholderColor" TEXT,
ADD COLUMN     "placeholderDataUri" TEXT,
ADD COLUMN     "source" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Image_contentHash_key" ON "Image"("contentHash");
