#!/usr/bin/env bash
# The README's first command leaves the checkout as it found it: runs scripts/demo.sh
# (with a debug kmidi instead of its set-up and release build, by KMIDI_DEMO_BIN) and
# fails if `git status --porcelain` shows anything, e.g. a kmidi-demo.mid left
# untracked. It runs in a scratch git repository holding this checkout's demo.sh and
# .gitignore, the two files that decide it, so edits in progress in the checkout
# neither hide nor fake a leftover.
#
#   scripts/test-demo.sh [KMIDI]   KMIDI: a kmidi binary (default: target/debug/kmidi,
#                                  built first)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
if (($# > 0)); then
  KMIDI=$(realpath "$1")
else
  cargo build --locked -p kmidi
  KMIDI=$REPO/target/debug/kmidi
fi
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kmidi-test-demo.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
mkdir "$SCRATCH/scripts"
cp .gitignore "$SCRATCH/"
cp scripts/demo.sh "$SCRATCH/scripts/"
git() { command git -C "$SCRATCH" -c user.name=kmidi -c user.email=kmidi@localhost "$@"; }
git init -q
git add -A
git commit -qm scratch
# Four times the score's speed: what is written does not depend on the tempo.
KMIDI_DEMO_BIN=$KMIDI timeout 120 bash "$SCRATCH/scripts/demo.sh" -q -s 0.25
left=$(git status --porcelain)
if [[ -n $left ]]; then
  printf 'test-demo.sh: FAILED: scripts/demo.sh left the checkout dirty:\n%s\n' "$left" >&2
  exit 1
fi
echo "test-demo.sh: passed: git status clean after scripts/demo.sh (ignored: $(git status --porcelain --ignored | tr '\n' ' '))"
