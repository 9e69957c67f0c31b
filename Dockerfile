# syntax=docker/dockerfile:1
# Cable Ticketing: one image for the web app, the notification worker and the migration job.
#
#   docker build -t cable-ticketing .
#   docker run -e SECRET_KEY=... -e DATABASE_URL=postgres://... -p 3000:3000 cable-ticketing
#   docker run ... cable-ticketing node dist/src/worker-main.js     # the worker
#   docker run ... cable-ticketing node dist/src/cli/migrate.js     # migrations only
#
# Stages: `build` compiles TypeScript (dev dependencies), `prod-deps` installs production dependencies
# only (better-sqlite3 is native: the toolchain is there in case no prebuilt binary matches), and
# `runtime` is node:24 slim with the compiled app, production node_modules, views and public, running
# as uid 1000 (`node`) on a read-only app tree. No tsx, TypeScript, compiler or npm cache in it.
# Expected size: about 300 MB uncompressed, about 90 MB compressed in a registry: the node:24 slim
# base is ~220 MB, production node_modules 74 MB (measured: `npm ci --omit=dev` then
# scripts/trim-prod-deps.sh), dist/ + views/ + public/ about 1.3 MB.
#
# Not built where it was written (no Docker engine there). What CI proves instead, with
# scripts/check-prod-build.sh: the same files (package*.json, dist/, views/, public/, scripts/run.mjs)
# with `npm ci --omit=dev` start in production, migrate, serve and stop cleanly on SIGTERM.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
COPY seeds ./seeds
COPY views ./views
COPY public ./public
# dist/ (compiled src, migrations, seeds), public/vendor/htmx.min.js and public/js/ (src/client minified).
RUN npm run build

FROM toolchain AS prod-deps
COPY scripts/trim-prod-deps.sh ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && scripts/trim-prod-deps.sh node_modules

# NODE_OPTIONS: the old generation capped at 192 MB. The app's live heap is ~40 MB under load, but
# V8 grows the heap by how fast it can collect and keeps what it grew: after `npm run bench` the
# process held 195–242 MB without the cap and 155–175 MB with it, for ~5–10 % more CPU per request.
# The chart's limits (512Mi web, 384Mi worker) leave room above it. No --enable-source-maps: Node
# then parses and keeps the source map of every module loaded, dependencies' too, ~60 MB (RSS 258 MB
# with it, 195 MB without). tsc's output keeps the source's names and shape, so a stack trace's
# dist/src/*.js lines are easy to follow; add the flag while chasing something.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    NODE_OPTIONS=--max-old-space-size=192
WORKDIR /app
# Owned by root, read by uid 1000: the app cannot change its own code (the chart also mounts the root
# filesystem read-only). Only /app/data (the SQLite default, unused with PostgreSQL) and /tmp are written.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
COPY views ./views
COPY scripts/run.mjs ./scripts/run.mjs
RUN mkdir -p /app/data && chown 1000:1000 /app/data
USER 1000:1000
EXPOSE 3000
# Liveness only (no database): slim images have no curl, so Node asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrates, then serves; SIGTERM drains in-flight requests and exits 0. SECRET_KEY must be set.
CMD ["node", "dist/src/main.js"]
