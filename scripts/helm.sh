#!/usr/bin/env bash
# Fetches the tools the Helm chart checks need, once, into .local/tools (git-ignored):
#   helm                — built from its Go module (the Go proxy is reachable; prebuilt binaries are not)
#   kubernetes-validate — PyPI, in its own venv; validates manifests offline against bundled schemas
# Later runs find both and do nothing, so the checks work offline after the first fetch.
# Usage: scripts/helm.sh            fetch what is missing, print nothing else
#        scripts/helm.sh --print    also print the two tool paths (helm, kubernetes-validate)
set -euo pipefail

CRM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELM_VERSION="v3.21.4"
KUBERNETES_VALIDATE_VERSION="1.37.0"
TOOLS="$CRM_ROOT/.local/tools"
HELM="$TOOLS/bin/helm"
VENV="$TOOLS/venv"
KUBE_VALIDATE="$VENV/bin/kubernetes-validate"

log() { printf '\033[36m[helm-tools]\033[0m %s\n' "$*" >&2; }

# One process at a time: turbo may start two test runs that both want the tools.
mkdir -p "$TOOLS"
exec 9>"$TOOLS/.lock"
flock 9

if [ ! -x "$HELM" ] || [ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" != "$HELM_VERSION" ]; then
  GO="$(command -v go || true)"
  [ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
  if [ -z "$GO" ]; then
    log "go is needed to build helm $HELM_VERSION (none on PATH or in /usr/local/go)"
    exit 1
  fi
  log "building helm $HELM_VERSION with go install (a few minutes, once)"
  t0=$(date +%s)
  # The version stamp is what helm's release builds set (plain go install leaves "v3.21").
  GOBIN="$TOOLS/bin" GOFLAGS="-buildvcs=false" "$GO" install \
    -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "helm built in $(($(date +%s) - t0)) s"
fi

# Read whole before matching: grep -q closing the pipe early would fail pip under pipefail.
installed="$("$VENV/bin/pip" show kubernetes-validate 2>/dev/null || true)"
if [ ! -x "$KUBE_VALIDATE" ] || ! grep -qx "Version: $KUBERNETES_VALIDATE_VERSION" <<<"$installed"; then
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $VENV"
  PYTHON="$(command -v python3 || command -v python)"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

if [ "${1:-}" = "--print" ]; then
  printf '%s\n%s\n' "$HELM" "$KUBE_VALIDATE"
fi
