#!/usr/bin/env bash
# Installs the system tools that spark-infra's tests run for real (see DESIGN.md, "Real parts, and what
# stands in"), from Debian's own packages. Idempotent: when everything is already installed it neither
# updates the package lists nor calls apt-get, and finishes in a second or two.
#
# Installing must not leave services behind: Debian's postgresql, etcd-server, prometheus and
# docker-registry packages try to start (and enable) a system service. The tests start their own servers
# on free loopback ports, so this script denies service starts while installing (policy-rc.d), disables
# the packaged services, and checks that nothing listens on their default ports afterwards.
set -euo pipefail

# What the tests need, and why:
#   ansible-core                  ansible-playbook against the namespaced test hosts
#   ansible-lint                  lints ansible/ (offline, production profile)
#   util-linux                    unshare, nsenter and setpriv boot the test hosts in their own namespaces
#   postgresql postgresql-client  real PostgreSQL server + psql, pg_basebackup, pg_amcheck (Terraform pg backend, DR drill)
#   etcd-server etcd-client       real etcd, etcdctl snapshots (DR drill)
#   prometheus                    real server and promtool (canary analysis)
#   docker-registry               real OCI registry on loopback (build-image)
#   buildah skopeo                image builds (chroot isolation, vfs) and copies
#   debootstrap                   Debian root for the Ansible test hosts
#   debian-archive-keyring        debootstrap verifies the archive with it (only a Recommends of debootstrap)
#   iproute2                      network namespaces and veth pairs for the test hosts; `ss` for the port check below
#   openssh-client                Ansible reaches the test hosts over ssh (sshd runs inside the debootstrapped root)
#   git ca-certificates           GitOps commits in tests; TLS for the package mirror
# Left out on purpose: openssh-server (sshd lives inside the test hosts' root, not on this machine), jq (tests
# parse JSON in TypeScript), uidmap (a dependency of buildah anyway), Recommends (--no-install-recommends).
PACKAGES=(
  ansible-core ansible-lint util-linux
  postgresql postgresql-client
  etcd-server etcd-client
  prometheus
  docker-registry
  buildah skopeo
  debootstrap debian-archive-keyring
  iproute2 openssh-client git ca-certificates
)
# Services those packages ship, and the default ports they would take from the tests.
SERVICES=(postgresql etcd prometheus docker-registry)
PORTS=(5432 2379 2380 9090 5000)

step() { printf '==> %s\n' "$*"; }
die() {
  printf 'setup-system: %s\n' "$*" >&2
  exit 1
}

if [[ ${EUID} -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    step "not root: re-running with sudo"
    exec sudo -- bash "$0" "$@"
  fi
  die "must run as root to install Debian packages, and sudo is not available; run it as root: bash $0"
fi

export DEBIAN_FRONTEND=noninteractive
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"

step "checking Node.js (20 or newer; the actions run on 24 and must also run on 20)"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  die "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none)). Debian 12's own nodejs is 18: install Node.js 20+ from nodejs.org (or the NodeSource packages) and run this script again."
fi

step "checking terraform (not packaged by Debian; must already be on the image)"
if ! command -v terraform >/dev/null 2>&1; then
  die "terraform is not installed. Debian does not package it: install the HashiCorp terraform binary into /usr/local/bin and run this script again."
fi
terraform version >/dev/null 2>&1 || die "terraform is on PATH at $(command -v terraform) but 'terraform version' fails"

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "${pkg}" || missing+=("${pkg}")
done

if ((${#missing[@]} == 0)); then
  step "all ${#PACKAGES[@]} packages already installed; skipping apt-get"
else
  step "missing packages: ${missing[*]}"
  # Deny service starts while dpkg configures the packages. An existing policy-rc.d (container images ship
  # one that denies everything) is left as it is.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e ${policy} ]]; then
    step "denying service starts during install (temporary ${policy})"
    printf '#!/bin/sh\n# temporary, written by spark-infra scripts/setup-system.sh\nexit 101\n' >"${policy}"
    chmod 0755 "${policy}"
    trap 'rm -f "${policy}"' EXIT
  fi
  apt_log=$(mktemp -t setup-system-apt.XXXXXX.log)
  apt_failed() {
    tail -n 40 "${apt_log}" >&2
    die "$1 failed; full output in ${apt_log}"
  }
  apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold)
  step "apt-get update"
  apt-get -q -o DPkg::Lock::Timeout=300 update >>"${apt_log}" 2>&1 || apt_failed "apt-get update"
  step "apt-get install ${missing[*]}"
  apt-get "${apt_opts[@]}" install "${missing[@]}" >>"${apt_log}" 2>&1 || apt_failed "apt-get install"
  rm -f "${apt_log}"
fi

# Disable the packaged services, so that neither a boot nor a later package upgrade starts them.
if [[ -d /run/systemd/system ]]; then
  for svc in "${SERVICES[@]}"; do
    if systemctl is-enabled --quiet "${svc}" 2>/dev/null || systemctl is-active --quiet "${svc}" 2>/dev/null; then
      step "systemd: disabling and stopping ${svc}"
      systemctl disable --now --quiet "${svc}"
    fi
  done
else
  for svc in "${SERVICES[@]}"; do
    if [[ -x /etc/init.d/${svc} ]] && compgen -G "/etc/rc[2-5].d/S[0-9][0-9]${svc}" >/dev/null; then
      step "sysv-rc: disabling ${svc}"
      update-rc.d "${svc}" disable >/dev/null 2>&1 || true
    fi
  done
fi

step "checking that no packaged service listens on ports ${PORTS[*]}"
listening() {
  local port=$1
  [[ -n "$(ss -Hltn "sport = :${port}" 2>/dev/null)" ]]
}
busy=()
for port in "${PORTS[@]}"; do
  listening "${port}" && busy+=("${port}")
done
if ((${#busy[@]} > 0)); then
  step "ports in use: ${busy[*]}; stopping the packaged services"
  for svc in "${SERVICES[@]}"; do
    if [[ -d /run/systemd/system ]]; then
      systemctl stop "${svc}" 2>/dev/null || true
    elif [[ -x /etc/init.d/${svc} ]]; then
      "/etc/init.d/${svc}" stop >/dev/null 2>&1 || true
    fi
  done
  sleep 1
  busy=()
  for port in "${PORTS[@]}"; do
    listening "${port}" && busy+=("${port}")
  done
  if ((${#busy[@]} > 0)); then
    ss -Hltnp | grep -E ":($(
      IFS='|'
      echo "${busy[*]}"
    ))\b" >&2 || true
    die "ports ${busy[*]} are still in use; stop whatever listens there (see above), the tests need them free"
  fi
fi

step "checking the tools"
pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do
  [[ -x ${dir}/initdb ]] || continue
  major=$(basename "$(dirname "${dir}")")
  if [[ -z ${pg_bin} ]] || ((major > $(basename "$(dirname "${pg_bin}")"))); then pg_bin=${dir}; fi
done
[[ -n ${pg_bin} ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
for tool in ansible-playbook psql etcd etcdctl prometheus promtool docker-registry buildah skopeo debootstrap ss ssh git; do
  command -v "${tool}" >/dev/null 2>&1 || die "${tool} is still missing after the install"
done
for tool in initdb postgres pg_ctl pg_basebackup pg_amcheck pg_isready; do
  [[ -x ${pg_bin}/${tool} ]] || die "${pg_bin}/${tool} is missing after the install"
done

# First non-empty line of a tool's version output: stdout if it has one (terraform warns on stderr), else stderr.
first_line() {
  local out
  out=$("$@" 2>/dev/null | sed -n '/./{p;q}') || true
  [[ -n ${out} ]] || out=$("$@" 2>&1 | sed -n '/./{p;q}') || true
  printf '%s' "${out}"
}
step "versions"
printf '  %-18s %s\n' \
  terraform "$(first_line terraform version)" \
  ansible-playbook "$(first_line ansible-playbook --version)" \
  postgres "$(first_line "${pg_bin}/postgres" --version) (${pg_bin})" \
  psql "$(first_line psql --version)" \
  etcd "$(first_line etcd --version)" \
  etcdctl "$(first_line etcdctl version)" \
  prometheus "$(first_line prometheus --version)" \
  promtool "$(first_line promtool --version)" \
  docker-registry "$(first_line docker-registry --version)" \
  buildah "$(first_line buildah --version)" \
  skopeo "$(first_line skopeo --version)" \
  debootstrap "$(first_line debootstrap --version)"
step "packages"
dpkg-query -W -f='  ${Package} ${Version}\n' "${PACKAGES[@]}"
step "done"
