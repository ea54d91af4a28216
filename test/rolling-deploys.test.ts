// Rolling deploys (README, "Rolling deploys"): while instances are replaced one at a time, the
// previous release keeps serving against the schema the new one migrated. So a PostgreSQL migration
// only expands: it adds tables, nullable columns, columns with a default, and indexes. Each
// statement that could break the previous release's reads or writes (dropping or renaming what it
// uses, changing a column's type, a new NOT NULL without a default, deleting rows) fails here unless
// the allow-list below says why it is safe. Contract steps (dropping what no release still uses)
// ship in a later release, once no instance runs the one that used it. SQLite is left out: one
// process owns the file, so it is never served by two releases at once.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { migrationSource } from '../src/db/providers.ts'

/** `<migration>: <rule>` → why the previous release is not broken by it. */
const allowed = new Map<string, string>([
  ['20261202060000_search_in_publication_order: deletes rows',
    'the search index is emptied and refilled from Article by the same migration, before any instance of the new release serves; searches by the previous release meanwhile find fewer matches for the seconds it runs, and none fail']
])

interface Finding { rule: string, statement: string }

/** Statements of a migration, without comments, whitespace collapsed. */
function statementsOf (sql: string): string[] {
  return sql.replace(/--[^\n]*/g, '').split(/;\s*(?:\n|$)/).map((statement) => statement.replace(/\s+/g, ' ').trim()).filter((statement) => statement !== '')
}

/** What in one statement could break the previous release. */
function contractingSteps (statement: string): Finding[] {
  const upper = statement.toUpperCase()
  const findings: Finding[] = []
  const found = (rule: string): void => { findings.push({ rule, statement: statement.slice(0, 200) }) }
  if (/^DROP (TABLE|VIEW|MATERIALIZED VIEW|TYPE|SCHEMA|FUNCTION|SEQUENCE)\b/.test(upper)) found('drops a table, view, type or function')
  if (/^ALTER TABLE\b.*\bDROP (COLUMN\b|(?!CONSTRAINT\b|INDEX\b|DEFAULT\b|NOT NULL\b)"?\w)/.test(upper)) found('drops a column')
  if (/\bRENAME\b/.test(upper)) found('renames')
  if (/\bALTER COLUMN "?[^ ]+"? (SET DATA )?TYPE\b/.test(upper)) found('changes a column\'s type')
  if (/\bSET NOT NULL\b/.test(upper)) found('makes a column NOT NULL')
  if (/^ALTER TABLE\b/.test(upper)) {
    for (const clause of upper.split(/\bADD COLUMN\b/).slice(1)) {
      const definition = clause.split(/,\s*ADD\b/)[0] ?? ''
      if (/\bNOT NULL\b/.test(definition) && !/\bDEFAULT\b/.test(definition)) found('adds a NOT NULL column without a default')
    }
  }
  if (/^(DELETE FROM|TRUNCATE)\b/.test(upper)) found('deletes rows')
  return findings
}

t.test('the rule catches each kind of contracting step, and lets expanding ones through', async (t) => {
  const rules = (sql: string): string[] => statementsOf(sql).flatMap(contractingSteps).map((finding) => finding.rule)
  t.same(rules('DROP TABLE "Old";'), ['drops a table, view, type or function'])
  t.same(rules('ALTER TABLE "Article" DROP COLUMN "dek";'), ['drops a column'])
  t.same(rules('ALTER TABLE "Article" RENAME COLUMN "dek" TO "standfirst";'), ['renames'])
  t.same(rules('ALTER TABLE "Article" ALTER COLUMN "wordCount" SET DATA TYPE BIGINT;'), ['changes a column\'s type'])
  t.same(rules('ALTER TABLE "Article" ALTER COLUMN "dek" SET NOT NULL;'), ['makes a column NOT NULL'])
  t.same(rules('ALTER TABLE "Article" ADD COLUMN "kicker" TEXT NOT NULL;'), ['adds a NOT NULL column without a default'])
  t.same(rules('DELETE FROM "Change";'), ['deletes rows'])
  t.same(rules(`-- expanding
    CREATE TABLE "New" ("id" TEXT NOT NULL, CONSTRAINT "New_pkey" PRIMARY KEY ("id"));
    ALTER TABLE "Article" ADD COLUMN "kicker" TEXT, ADD COLUMN "rank" INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE "Article" DROP CONSTRAINT "Article_x_fkey";
    ALTER TABLE "Article" ALTER COLUMN "dek" DROP NOT NULL;
    DROP INDEX "Article_slug_idx";
    CREATE INDEX "Article_kicker_idx" ON "Article"("kicker");`), [])
})

t.test('every PostgreSQL migration only expands the schema, or says why its contracting step is safe', async (t) => {
  const { migrationsDir } = migrationSource('postgresql')
  const migrations = readdirSync(migrationsDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()
  t.ok(migrations.length > 0, `${migrations.length} migrations`)
  const used = new Set<string>()
  for (const migration of migrations) {
    const sql = readFileSync(join(migrationsDir, migration, 'migration.sql'), 'utf8')
    for (const finding of statementsOf(sql).flatMap(contractingSteps)) {
      const entry = `${migration}: ${finding.rule}`
      used.add(entry)
      if (!allowed.has(entry)) {
        t.fail(`${migration} ${finding.rule}, which breaks the previous release during a rolling deploy. Split it: expand now, contract in a later release (README, "Rolling deploys"), or add it to the allow-list in this file with the reason it is safe`, { statement: finding.statement })
      }
    }
  }
  t.same([...allowed.keys()].filter((entry) => !used.has(entry)), [], 'every allow-list entry still names a step of a migration')
})
