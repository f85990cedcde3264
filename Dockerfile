# Tutti's production image: `docker build -t tutti:$(node -p "require('./package.json').version") .`
# The Helm chart (helm/tutti) runs this image by default: repository `tutti`, tag = the chart's
# appVersion = package.json's version. Node runs the TypeScript sources by type stripping: there is
# no build step, so the image is the sources the app reads at runtime plus its production modules.
ARG NODE_VERSION=22.23.3

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# no production dependency has an install script (argon2's binary comes as an optional package)
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    TENANTS_DIR=/etc/tutti/tenants \
    DATA_DIR=/tmp/tutti
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# package.json holds "type": "module"; the rest is what the server and the CLI read at runtime:
# the sources, the page and mail templates with their assets, the tenant file contract, the migrations
COPY package.json ./
COPY src ./src
COPY templates ./templates
COPY config ./config
COPY migrations ./migrations
# the tenants' files are not baked in: they are mounted at TENANTS_DIR (the chart mounts a ConfigMap)
RUN mkdir -p /etc/tutti/tenants
# the image's `node` user, by number so that Kubernetes' runAsNonRoot can check it
USER 1000:1000
EXPOSE 3000 9464
# the flags of `npm start`, without npm in between: node receives SIGTERM itself (graceful shutdown)
CMD ["node", "--experimental-async-context-frame", "--max-semi-space-size=32", "src/main.ts"]
