#!/usr/bin/env node
// Stand-in for Prisma's native schema engine on machines that cannot download it. `prisma generate`
// only needs the path to exist; migrations run through src/db/migrate.ts (WebAssembly engine) instead.
console.error('The native Prisma schema engine is not installed here: use `npm run db:migrate`.')
process.exit(1)
