#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy with the machine's Go, no Docker and no
# downloaded binaries. Binaries are cached in ~/.cache/labelguard/k8s/<k8s version>/ and rebuilt only
# when missing. Versions come from versions.env beside this script (override with K8S_VERSION /
# ETCD_VERSION in the environment).
#
# k8s.io/kubernetes is not meant to be imported: its go.mod requires every k8s.io/* staging module
# at v0.0.0 and replaces each with ./staging/src/k8s.io/<name>. A dependency's replace lines are
# ignored, so a wrapper module re-states them, pointing each staging module at its published
# v0.<minor>.<patch> tag. The list is read from the downloaded go.mod, never written down here.
# etcd's server module does the same with ../api, ../client/pkg, ...: those map to the etcd tag.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
[ -z "${K8S_VERSION:-}" ] && K8S_VERSION="$(sed -n 's/^K8S_VERSION=//p' "$here/versions.env")"
[ -z "${ETCD_VERSION:-}" ] && ETCD_VERSION="$(sed -n 's/^ETCD_VERSION=//p' "$here/versions.env")"

# LABELGUARD_CACHE is the name test/e2e/kyverno/build.sh reads; either moves the cache.
cache_root="${LABELGUARD_CACHE_DIR:-${LABELGUARD_CACHE:-$HOME/.cache/labelguard}}"
out="$cache_root/k8s/$K8S_VERSION"
export GOPATH="$cache_root/go"
export GOMODCACHE="$cache_root/go/pkg/mod"
export GOCACHE="$cache_root/go/cache"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then
  echo "k8s control plane $K8S_VERSION cached in $out ($(cat "$out/etcd.version" 2>/dev/null || echo 'etcd ?'))"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: go is not on PATH" >&2; exit 1; }
echo "building kube-apiserver $K8S_VERSION with $(go version) into $out"
mkdir -p "$out"
start_all=$SECONDS

elapsed() { local s=$(( SECONDS - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# Prints `replace` lines for a module whose go.mod replaces modules with local directories:
# every `<module> => ./path` or `../path` becomes `<module> => <module> <version>`; `<module>
# [version] => <other> <version>` lines are carried over as they are.
derive_replaces() { # $1 = go.mod file, $2 = version function name
  local gomod="$1" version_of="$2" line left right mod
  awk '
    /^replace[ \t]*\(/ { inblock = 1; next }
    inblock && /^\)/   { inblock = 0; next }
    /^replace[ \t]/     { sub(/^replace[ \t]+/, ""); print; next }
    inblock             { print }
  ' "$gomod" | sed 's#//.*##' | awk 'NF' | while read -r line; do
    left="${line%%=>*}"; right="${line#*=>}"
    set -- $left; mod="$1"
    set -- $right
    case "$1" in
      ./*|../*) echo "	$mod => $mod $("$version_of" "$mod")" ;;
      *) echo "	$line" ;;
    esac
  done
}

# ---------------------------------------------------------------- kube-apiserver
if [ ! -x "$out/kube-apiserver" ]; then
  t0=$SECONDS
  k8s_mod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [ -f "$k8s_mod" ] || { echo "build.sh: could not download k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
  staging_version="v0.${K8S_VERSION#v1.}"
  staging_v() { echo "$staging_version"; }
  src="$out/src/kube-apiserver"
  rm -rf "$src"; mkdir -p "$src"
  go_directive="$(sed -n 's/^go //p' "$k8s_mod" | head -1)"
  {
    echo "module labelguard.test/kube-apiserver-build"
    echo
    echo "go $go_directive"
    echo
    grep -E '^godebug ' "$k8s_mod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    derive_replaces "$k8s_mod" staging_v
    echo ")"
  } > "$src/go.mod"
  cat > "$src/tools.go" <<'GO'
//go:build tools

// Package tools pins the program this module builds.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  echo "wrapper module: $(grep -c '=>' "$src/go.mod") replace lines derived from k8s.io/kubernetes@$K8S_VERSION go.mod"
  ( cd "$src" && go mod tidy )
  echo "kube-apiserver: modules resolved in $(elapsed "$t0")"
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for kv in "gitVersion=$K8S_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean; do
    ldflags="$ldflags -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  ( cd "$src" && go build -p "$(nproc)" -ldflags "$ldflags" -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver )
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
  echo "kube-apiserver $K8S_VERSION built in $(elapsed "$t0")"
  if [ -z "$ETCD_VERSION" ]; then
    ETCD_VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2 }' "$k8s_mod")"
  fi
fi

# ---------------------------------------------------------------- etcd
if [ -z "$ETCD_VERSION" ]; then
  k8s_mod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  ETCD_VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" || $1 == "go.etcd.io/etcd/client/v3" { print $2; exit }' "$k8s_mod")"
fi
if [ ! -x "$out/etcd" ]; then
  t0=$SECONDS
  etcd_mod="$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [ -f "$etcd_mod" ] || { echo "build.sh: could not download go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2; exit 1; }
  etcd_v() { echo "$ETCD_VERSION"; }
  src="$out/src/etcd"
  rm -rf "$src"; mkdir -p "$src"
  {
    echo "module labelguard.test/etcd-build"
    echo
    echo "go $(sed -n 's/^go //p' "$etcd_mod" | head -1)"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo
    echo "replace ("
    derive_replaces "$etcd_mod" etcd_v
    echo ")"
  } > "$src/go.mod"
  cat > "$src/main.go" <<'GO'
// Command etcd runs etcd's own entry point, built from the published server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
GO
  ( cd "$src" && go mod tidy )
  ( cd "$src" && go build -p "$(nproc)" -ldflags "-s -w" -o "$out/etcd.tmp" . )
  mv "$out/etcd.tmp" "$out/etcd"
  echo "$ETCD_VERSION" > "$out/etcd.version"
  echo "etcd $ETCD_VERSION built in $(elapsed "$t0")"
fi

"$out/kube-apiserver" --version
"$out/etcd" --version | head -1
echo "control plane ready in $out (total $(elapsed "$start_all"))"
