# One image for the API and every worker fleet (the command picks the entry point), built in
# stages so the runtime has compiled JavaScript and production dependencies only: no tsx, no
# TypeScript, no webpack run at start-up (the workflow bundle is prebuilt by `npm run build`).
#   docker build -t mlops-temporal .                                   # CPU image (last stage)
#   docker build --target app-gpu -t mlops-temporal:gpu .              # CUDA image for the GPU fleet
# Both run as uid 1000 and work with a read-only root file system: the only writable paths are
# MLOPS_DATA_DIR (/data) and /tmp, which the deployment mounts (emptyDir or a volume).
ARG NODE_IMAGE=node:20-bookworm-slim
# The CUDA base of the GPU variant. onnxruntime-node 1.30's CUDA provider is built for CUDA 12.x
# with cuDNN 9 (the cudnn runtime images carry both); the host driver must support CUDA 12.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# --- build: all dependencies, tsc to dist/, workflow bundle, replay of the committed histories
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
# Every source folder (.dockerignore keeps out tests, benchmarks, docs and local state; it lets in
# the committed workflow histories the build replays).
COPY . .
RUN npm run build

# --- production dependencies only (.npmrc skips install scripts: onnxruntime-node's CPU build ships in the package)
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- the same, plus onnxruntime-node's CUDA execution provider, fetched by its own install script
# (from NuGet, Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version). ONNXRUNTIME_NODE_INSTALL:
# cuda12 (default) installs it; skip builds the GPU image without it (CPU path, smaller).
FROM prod-deps AS prod-deps-cuda
ARG ONNXRUNTIME_NODE_INSTALL=cuda12
RUN ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL} node node_modules/onnxruntime-node/script/install.js

# --- the official Node binary, copied into the CUDA image
FROM ${NODE_IMAGE} AS node

# --- GPU fleet image: CUDA + cuDNN runtime, Node copied in from the official image. Which GPUs a
# container sees is the device plugin's (or compose's device reservation's) business; `utility`
# lets the container toolkit mount nvidia-smi, which the GPU metrics read.
FROM ${CUDA_IMAGE} AS app-gpu
COPY --from=node /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production NODE_OPTIONS=--enable-source-maps \
    MLOPS_DATA_DIR=/data MLOPS_DATASETS_DIR=/app/datasets \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=prod-deps-cuda /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY datasets ./datasets
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
CMD ["node", "dist/workers/gpu.js"]

# --- the app image (default target): API, control and CPU fleets, and the GPU fleet on the CPU path
FROM ${NODE_IMAGE} AS app
ENV NODE_ENV=production NODE_OPTIONS=--enable-source-maps \
    MLOPS_DATA_DIR=/data MLOPS_DATASETS_DIR=/app/datasets
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY datasets ./datasets
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
EXPOSE 8080
CMD ["node", "dist/api/server.js"]
