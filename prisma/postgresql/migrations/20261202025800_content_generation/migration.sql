-- CreateTable
CREATE TABLE "ContentGeneration" (
    "id" INTEGER NOT NULL,
    "value" BIGINT NOT NULL,

    CONSTRAINT "ContentGeneration_pkey" PRIMARY KEY ("id")
);

-- The single row every content write raises.
INSERT INTO "ContentGeneration" ("id", "value") VALUES (1, 0);
