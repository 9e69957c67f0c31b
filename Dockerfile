# PLACEHOLDER until the deployment issue (#7). An UNVERIFIED sketch: it has never been built (there is
# no Docker daemon where this was written) and no test or CI step uses it.
#
# Intended shape: build dependencies in one stage (better-sqlite3 compiles from source and needs a
# toolchain), run as the non-root `node` user in a slim stage. The app runs TypeScript through tsx,
# which is a devDependency, so node_modules is copied whole; #7 decides whether to compile instead.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY views ./views
COPY public ./public
COPY migrations ./migrations
COPY scripts ./scripts
RUN node_modules/.bin/tsx scripts/build-assets.ts && mkdir -p data && chown node:node data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# src/main.ts migrates, then serves; SECRET_KEY must be set (production refuses to start without it).
CMD ["node_modules/.bin/tsx", "src/main.ts"]
