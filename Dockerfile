# Copydesk API image. Build: docker build -t copydesk .   Run: see docker-compose.yml
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# Install first (the postinstall step generates the Prisma clients from prisma/), so source edits
# do not invalidate the dependency layer.
COPY package.json package-lock.json ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund --omit=dev \
 && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src

# The default embedded database lives in /app/data; PostgreSQL deployments never write there.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/server.ts"]
