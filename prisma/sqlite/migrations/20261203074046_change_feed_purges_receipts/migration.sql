-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN "objectKey" TEXT;
ALTER TABLE "WebhookDelivery" ADD COLUMN "seq" BIGINT;

-- CreateTable
CREATE TABLE "WebhookAttempt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "deliveryId" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "latencyMs" INTEGER NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    CONSTRAINT "WebhookAttempt_deliveryId_fkey" FOREIGN KEY ("deliveryId") REFERENCES "WebhookDelivery" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PurgeRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "seq" BIGINT NOT NULL,
    "purger" TEXT NOT NULL,
    "keys" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedUntil" DATETIME,
    "lastError" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "doneAt" DATETIME
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ChangeSequence" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "value" BIGINT NOT NULL,
    "prunedThrough" BIGINT NOT NULL DEFAULT 0
);
INSERT INTO "new_ChangeSequence" ("id", "value") SELECT "id", "value" FROM "ChangeSequence";
DROP TABLE "ChangeSequence";
ALTER TABLE "new_ChangeSequence" RENAME TO "ChangeSequence";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "WebhookAttempt_deliveryId_startedAt_idx" ON "WebhookAttempt"("deliveryId", "startedAt");

-- CreateIndex
CREATE INDEX "PurgeRequest_status_nextAttemptAt_idx" ON "PurgeRequest"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_webhookId_objectKey_seq_idx" ON "WebhookDelivery"("webhookId", "objectKey", "seq");

-- CreateIndex
CREATE INDEX "Change_createdAt_idx" ON "Change"("createdAt");
