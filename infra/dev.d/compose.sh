# shellcheck shell=bash
# Sourced by infra/dev: 'test compose', compose.yaml booted for real (ComposeDeploymentTests).
#
# Where no Docker engine runs and no registry answers, Podman serves Docker's API on a socket of the
# data folder, and the images compose.yaml starts from are made here from Debian's packages: the
# Debian base by debootstrap, and stand-ins for swift, postgres and rabbitmq
# (infra/docker/standins: test fixtures honouring the interface compose.yaml relies on, not what
# users run). With a Docker engine (DOCKER_HOST set, or /var/run/docker.sock), the same test runs
# against it and the official images.

COMPOSE_PACKAGES=(podman runc conmon containernetworking-plugins netavark iptables catatonit slirp4netns uidmap
    fuse-overlayfs debootstrap docker-compose)
STANDINS="$ROOT/infra/docker/standins"

# The Debian image every other one starts from, imported from a debootstrap of bookworm (about 45 s, once).
ensure_base_image() {
    podman image exists docker.io/library/debian:bookworm-slim && return 0
    local rootfs="$DATA/compose/rootfs"
    rm -rf "$rootfs"
    info "debootstrap bookworm into $rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$DATA/compose/debootstrap.log" 2>&1 \
        || { tail -20 "$DATA/compose/debootstrap.log"; return 1; }
    tar -C "$rootfs" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
    rm -rf "$rootfs"
}

# The stand-ins, rebuilt from their cached layers when nothing changed.
ensure_standins() {
    local log="$DATA/compose/standins.log"
    (
        cd "$STANDINS"
        podman build --volume /opt:/host:ro -f swift.Dockerfile -t localhost/orderly-standin/swift:6.3-bookworm . &&
            podman build -f postgres.Dockerfile -t localhost/orderly-standin/postgres:15 . &&
            podman build -f rabbitmq.Dockerfile -t localhost/orderly-standin/rabbitmq:3.10 .
    ) >"$log" 2>&1 || { tail -30 "$log"; return 1; }
}

# Podman's Docker API on $DATA/compose/podman.sock, until this command ends.
serve_docker_api() {
    local socket="$DATA/compose/podman.sock"
    rm -f "$socket"
    podman system service --time=0 "unix://$socket" >"$DATA/compose/podman-service.log" 2>&1 &
    PODMAN_SERVICE=$!
    trap 'kill "$PODMAN_SERVICE" 2>/dev/null || true' EXIT
    local tries=0
    until [[ -S "$socket" ]]; do
        ((tries++ < 100)) || { cat "$DATA/compose/podman-service.log"; return 1; }
        sleep 0.1
    done
    # Podman has no systemd here to schedule healthchecks (compose's depends_on waits on them): run
    # every running container's healthcheck every two seconds, beside the test.
    while sleep 2; do
        podman ps -q 2>/dev/null | xargs -r -n1 podman healthcheck run >/dev/null 2>&1 || true
    done &
    HEALTHCHECKS=$!
    trap 'kill "$PODMAN_SERVICE" "$HEALTHCHECKS" 2>/dev/null || true' EXIT
    export DOCKER_HOST="unix://$socket"
}

cmd_test_compose() {
    local started
    started="$(now)"
    mkdir -p "$DATA/compose"
    if [[ -z "${DOCKER_HOST:-}" && ! -S /var/run/docker.sock ]]; then
        phase "packages" ensure_packages "${COMPOSE_PACKAGES[@]}" || { summary; exit 1; }
        export CONTAINERS_CONF="$STANDINS/containers.conf"
        phase "debian base image" ensure_base_image || { summary; exit 1; }
        phase "stand-in images" ensure_standins || { summary; exit 1; }
        export ORDERLY_SWIFT_IMAGE=localhost/orderly-standin/swift:6.3-bookworm ORDERLY_POSTGRES_IMAGE=localhost/orderly-standin/postgres:15 \
            ORDERLY_RABBITMQ_IMAGE=localhost/orderly-standin/rabbitmq:3.10
        serve_docker_api
    else
        phase "packages" ensure_packages docker-compose || { summary; exit 1; }
    fi
    phase "swift build --build-tests" in_root swift build --build-tests || { summary; exit 1; }
    ORDERLY_BIN_DIR="$(cd "$ROOT" && swift build --show-bin-path)"
    export ORDERLY_BIN_DIR ORDERLY_COMPOSE_TESTS=1
    phase "compose deployment" in_root swift test --skip-build --filter ComposeDeployment || true
    summary
    info "total $(elapsed "$started")"
    ((FAILED == 0)) || exit 1
}
