# Multi-stage build: compile TypeScript, then a slim runtime with production dependencies only.
# (No Docker engine exists on the development machines; this file is kept simple and reviewed, not built there.)
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data DATABASE_URL=sqlite:/data/kundeklubb.sqlite SMTP_URL=file:/data/outbox
# A heap cap below 1 GB makes V8 collect old garbage sooner (growing factor ~1.6 instead of 4):
# a 100,000-member send peaked at ~205 MB RSS instead of ~310 MB. A young generation of 4 MB
# semi-spaces instead of V8's 16 MB: the same send by a worker process peaks at ~126 MB instead
# of ~151 MB, at no measurable cost in speed (1 MB costs a third of it). Override with -e NODE_OPTIONS=….
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=4"
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "bin/kundeklubb.js", "start"]
