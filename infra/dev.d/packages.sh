# shellcheck shell=bash
# Sourced by infra/dev: the Debian packages the brokers and the build need.

# pkg-config: how SwiftPM finds librabbitmq and libpq (the Swift install guide lists it, but a machine may lack it).
# curl: README's walkthrough talks to the services with it (and its end-to-end test runs it as written).
# libssl-dev: libcrypto's SHA-256 and HMAC (Sources/Digests), the system's in place of a copy compiled with the build.
DEB_PACKAGES=(rabbitmq-server postgresql librabbitmq-dev libpq-dev libssl-dev pkg-config curl)
# Only 'test' needs these: docker-compose validates compose.yaml (no Docker engine runs here);
# chromium renders the operator's page headless in the end-to-end tests (about 30 s to install);
# python3-venv holds schemathesis (below).
TEST_PACKAGES=(docker-compose chromium python3-venv)

# The end-to-end tests' Python tools, from PyPI into a virtual environment of the data folder (about 20 s
# the first time): schemathesis checks the services' answers against docs/openapi.yaml, and the CloudEvents
# SDK writes the binary-mode events the ingress must take.
PYTHON_TOOLS=(schemathesis==4.32.5 cloudevents==2.2.0)
schemathesis_venv() { echo "$DATA/tools/schemathesis"; }

ensure_schemathesis() {
    local venv installed
    venv="$(schemathesis_venv)"
    installed="$("$venv/bin/pip" freeze 2>/dev/null || true)"
    if [[ -z "$(printf '%s\n' "${PYTHON_TOOLS[@]}" | grep -vxF -f <(printf '%s\n' "$installed"))" ]]; then return 0; fi
    info "installing ${PYTHON_TOOLS[*]} into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${PYTHON_TOOLS[@]}"
}

missing_packages() {
    local pkg
    for pkg in "${DEB_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
    done
}

# ensure_packages [EXTRA...]: installs what is missing of DEB_PACKAGES and EXTRA.
ensure_packages() {
    command -v dpkg-query >/dev/null || return 0 # not Debian: trust the developer
    local missing
    mapfile -t missing < <(missing_packages "$@")
    ((${#missing[@]})) || return 0
    is_root || die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"

    info "installing ${missing[*]}"
    # A subshell so its trap restores policy-rc.d however apt-get ends, without touching the caller's traps.
    (
        policy=/usr/sbin/policy-rc.d
        backup=""
        if [[ -e "$policy" ]]; then
            backup="$(mktemp /usr/sbin/policy-rc.d.orderly.XXXXXX)"
            cp -p "$policy" "$backup"
        fi
        # shellcheck disable=SC2317 # called by the trap
        restore() { if [[ -n "$backup" ]]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi; }
        trap restore EXIT
        # Exit 101 tells invoke-rc.d not to start the packages' system services: we run our own.
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    )
}
