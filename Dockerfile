# Copydesk API image. Build: docker build -t copydesk .   Run: see docker-compose.yml
# Two stages: the first installs everything and compiles TypeScript to dist/; the second ships only
# what runs (compiled code, production dependencies, migrations), without TypeScript, tsx, the
# Prisma CLI or the sources.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Install first (the postinstall step generates the Prisma clients from prisma/), so source edits
# do not invalidate the dependency layer.
COPY package.json package-lock.json ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
# MALLOC_ARENA_MAX: glibc's per-thread arenas keep what libvips' threads freed after an image is
# processed; two arenas took 24 MB off the resident memory after an upload (262 -> 238 MB, measured).
# MALLOC_MMAP_THRESHOLD_: fixed, so the large buffers of decoded pixels go back to the system when
# freed (glibc raises a dynamic threshold after the first such free, and then keeps them).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are applied at start from prisma/<provider>/migrations.
COPY --from=build /app/prisma ./prisma

# Where state lives: the database and images are in PostgreSQL and S3 when DATABASE_URL and
# IMAGE_STORAGE=s3 say so (docker-compose.yml); otherwise the embedded SQLite database and the
# uploaded images are in /app/data (data/copydesk.db, data/images), a volume: mount it to keep them.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The Node options of `npm start` (README, "Memory"): WebAssembly kept at its baseline tier (Prisma's
# query compiler; its plans are cached) and a small young generation. The malloc settings above are
# npm start's too.
CMD ["node", "--liftoff-only", "--max-semi-space-size=2", "dist/bundle/server.js"]
