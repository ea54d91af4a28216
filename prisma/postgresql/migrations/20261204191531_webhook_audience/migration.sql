-- AlterTable
ALTER TABLE "Webhook" ADD COLUMN     "audience" TEXT NOT NULL DEFAULT 'staff';
