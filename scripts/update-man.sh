#!/usr/bin/env bash
# Regenerates man/ from the argument parser (swift-argument-parser's generate-manual plugin), one page per
# subcommand, so the pages never drift from --help. Run after changing any command's options. The pages are
# made in a temporary folder and replace man/ only when generation succeeded, so a failed build leaves man/ as
# it was. SCRATCH=path builds in another scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swift package ${SCRATCH:+--scratch-path "$SCRATCH"} --allow-writing-to-package-directory generate-manual --multi-page \
    --date "$(date +%Y-%m-%d)" --authors "the moe-slim developers" -o "$out"
rm -f "$out/moe-slim.help.1"
ls "$out"/*.1 >/dev/null
rm -rf man && mkdir man && cp "$out"/*.1 man/
ls man
