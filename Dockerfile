# syntax=docker/dockerfile:1
# The demo CLI as a container image, for the CronJobs of `demo gc install` (README "Container image").
#   docker build -t registry.example.com/demo-cli:0.1.0 . && docker push registry.example.com/demo-cli:0.1.0
# Three stages: build (all dependencies, compile and bundle), prod-deps (production dependencies only),
# and the image itself: Node 24 slim, the compiled CLI and its production dependencies, run as `node` (uid 1000,
# the runAsUser of the CronJob's pod, IMAGE_UID in src/core/gc-install-manifests.ts).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY templates ./templates
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/oclif.manifest.json ./oclif.manifest.json
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
COPY seeds ./seeds
USER node
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["--help"]
