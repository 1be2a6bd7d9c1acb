# One image for the API and every worker fleet; the compose file picks the entry point.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY api ./api
COPY serving ./serving
COPY lib ./lib
COPY cli ./cli
COPY datasets ./datasets
RUN mkdir -p /data && chown node:node /data
USER node
ENV MLOPS_DATA_DIR=/data MLOPS_DATASETS_DIR=/app/datasets
EXPOSE 8080
CMD ["node", "--import", "tsx", "api/server.ts"]
