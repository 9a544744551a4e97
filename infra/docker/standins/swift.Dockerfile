# A test fixture, not what users get: a stand-in for the official swift:6.3-bookworm image, for a
# machine that cannot reach a registry (`./infra/dev test compose`). It holds this machine's own
# Swift toolchain and its copies of the Swift packages, which git answers for GitHub, exactly as
# on the host. Built with the host's /opt mounted at /host (podman build --volume /opt:/host:ro).
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        binutils ca-certificates git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev \
        libncurses-dev libpython3.11 libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-dev pkg-config \
        tzdata unzip zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
RUN cp -a /host/swift /opt/swift && cp -a /host/swift-packages /opt/swift-packages \
    && git config --system url./opt/swift-packages/.insteadOf https://github.com/
ENV PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
