# certsmith: one image for every role (controller, http-01 solver Pod, one-shot ACME client).
# Build stage compiles with the Debian toolchain and -dev packages; the runtime stage holds only
# the shared libraries the binary links, CA certificates and the binary, and runs as non-root.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config libssl-dev libcpprest-dev \
      libboost-system-dev nlohmann-json3-dev libyaml-cpp-dev libldns-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Release, as packagers build it (CI builds and tests the same configuration with GCC 12).
# Warnings are not errors here (CERTSMITH_WERROR is off): an image build must not fail on one.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCERTSMITH_BUILD_TESTS=OFF -DCERTSMITH_BUILD_BENCH=OFF \
 && ninja -C /build certsmith \
 && strip -o /certsmith /build/controller/certsmith

FROM debian:bookworm-slim
# The libraries certsmith links (cpprestsdk pulls its Boost and zlib), nothing else: no shell
# tools are added beyond the base image, no compilers.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcpprest2.10 libssl3 libyaml-cpp0.7 libldns3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/*
COPY --from=build /certsmith /usr/local/bin/certsmith
# Fail the build, not the Pod, when a shared library is missing.
RUN ! ldd /usr/local/bin/certsmith | grep -q "not found" \
 && /usr/local/bin/certsmith version \
 && ln -s certsmith /usr/local/bin/kubectl-certsmith
# 65532: the conventional "nonroot" uid; the chart also sets runAsNonRoot.
USER 65532:65532
EXPOSE 8089 9402
ENTRYPOINT ["/usr/local/bin/certsmith"]
CMD ["controller"]
