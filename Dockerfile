# syntax=docker/dockerfile:1
# Startup Factory: one image for every role (operator, task Jobs, CLI).
# Node 24 runs the TypeScript sources directly (native type stripping), so there is no
# compile stage: the build stage only resolves production dependencies.
ARG NODE_IMAGE=node:24.21.0-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs an install script, and none gets to run one.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="startup-factory" \
      org.opencontainers.image.description="Kubernetes operator for AI-built startups" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin/ ./bin/
COPY crds/ ./crds/
COPY templates/ ./templates/
COPY src/ ./src/
# Task Jobs may name the command (`startup-factory task run`), so it must be on PATH.
RUN ln -s /app/bin/startup-factory.js /usr/local/bin/startup-factory
# Every task Job is a fresh process: a compile cache baked into the image (read-only at run
# time, which Node tolerates) halves its start. `task run` with no token exits at once
# after loading everything a task needs; `operator --help` loads the operator.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN (startup-factory task run || true) && startup-factory operator --help > /dev/null
# A numeric UID lets Kubernetes verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["startup-factory"]
CMD ["operator"]
