# certsmith: one image for every role (controller, http-01 solver Pod, one-shot ACME client).
# The build stage compiles with the Debian toolchain and -dev packages and assembles /rootfs: the
# stripped binary, exactly the shared libraries `ldd` lists for it (and the dynamic loader), the
# CA bundle, and the few /etc files a non-root process needs. The runtime stage is that tree on
# an empty base: no shell, no package manager, no other files (22 MB instead of 306 MB).
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config libssl-dev libcpprest-dev \
      libboost-system-dev nlohmann-json3-dev libyaml-cpp-dev libldns-dev ca-certificates ccache \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Release, as packagers build it (CI builds and tests the same configuration with GCC 12).
# Warnings are not errors here (CERTSMITH_WERROR is off): an image build must not fail on one.
# ccache (which CMake finds and uses) keeps its cache in a build cache mount, so rebuilding the
# image on the same machine after a change recompiles only what changed.
# A context holding prebuilt/certsmith (a binary built on Debian bookworm; the image test passes
# the one it has just tested) is packaged as it is, without compiling.
ENV CCACHE_DIR=/ccache
RUN --mount=type=cache,id=certsmith-ccache,target=/ccache \
    if [ -f prebuilt/certsmith ]; then \
      mkdir -p /build/controller && cp prebuilt/certsmith /build/controller/certsmith; \
    else \
      cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCERTSMITH_BUILD_TESTS=OFF -DCERTSMITH_BUILD_BENCH=OFF \
      && ninja -C /build certsmith; \
    fi
# /rootfs, the whole runtime image. Each library goes to the path ldd resolved it to (the loader
# searches the multiarch directory itself, no ld.so.cache needed); glibc's files and dns NSS
# modules are built into libc.so.6. OpenSSL looks for its default trust store at
# $OPENSSLDIR/cert.pem, /usr/lib/ssl/cert.pem on Debian, which the package openssl (not libssl3)
# links to the bundle: the link is made here. The tree is then run chrooted as the non-root user,
# so a missing library fails the build, not the Pod.
RUN set -eu; r=/rootfs; bin=$r/usr/local/bin/certsmith; \
    mkdir -p $r/usr/local/bin $r/etc/ssl/certs $r/usr/lib/ssl $r/tmp; \
    strip -o $bin /build/controller/certsmith; \
    ln -s certsmith $r/usr/local/bin/kubectl-certsmith; \
    if ldd $bin | grep "not found"; then exit 1; fi; \
    for lib in $(ldd $bin | grep -o '/[^ ]*'); do cp -L --parents "$lib" $r; done; \
    cp /etc/ssl/certs/ca-certificates.crt $r/etc/ssl/certs/; \
    ln -s /etc/ssl/certs/ca-certificates.crt $r/usr/lib/ssl/cert.pem; \
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin\n' >$r/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' >$r/etc/group; \
    printf 'hosts: files dns\n' >$r/etc/nsswitch.conf; \
    chmod 1777 $r/tmp; \
    chroot --userspec=65532:65532 $r /usr/local/bin/certsmith version

FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin
# 65532: the conventional "nonroot" uid (in /etc/passwd); the chart also sets runAsNonRoot.
USER 65532:65532
EXPOSE 8089 9402
ENTRYPOINT ["/usr/local/bin/certsmith"]
CMD ["controller"]
