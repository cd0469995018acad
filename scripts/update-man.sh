#!/usr/bin/env bash
# Regenerates man/ from the argument parser (swift-argument-parser's generate-manual plugin), one page per
# subcommand, so the pages never drift from --help. Run after changing any command's options.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf man && mkdir man
swift package --allow-writing-to-package-directory generate-manual --multi-page --date "$(date +%Y-%m-%d)" \
    --authors "the moe-slim developers" -o man
rm -f man/moe-slim.help.1
ls man
