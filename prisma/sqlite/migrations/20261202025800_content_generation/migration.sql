-- CreateTable
CREATE TABLE "ContentGeneration" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "value" BIGINT NOT NULL
);

-- The single row every content write raises.
INSERT INTO "ContentGeneration" ("id", "value") VALUES (1, 0);
