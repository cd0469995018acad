#!/usr/bin/env bash
# Regenerates man/ from the argument parser (swift-argument-parser's generate-manual plugin), one page per
# subcommand, so the pages never drift from --help. Run after changing any command's options. The pages are
# made in a temporary folder and replace man/ only when generation succeeded, so a failed build leaves man/ as
# it was. SCRATCH=path builds in another scratch folder. scripts/man-finish.py then adds each option's default,
# an EXAMPLES section per command and a SEE ALSO naming only pages that exist (needs python3).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swift package ${SCRATCH:+--scratch-path "$SCRATCH"} --allow-writing-to-package-directory generate-manual --multi-page \
    --date "$(date +%Y-%m-%d)" --authors "the moe-slim developers" -o "$out"
rm -f "$out/moe-slim.help.1"
ls "$out"/*.1 >/dev/null
# defaults, EXAMPLES and SEE ALSO, which the plugin does not write (scripts/man-finish.py)
swift build ${SCRATCH:+--scratch-path "$SCRATCH"} --product moe-slim
python3 scripts/man-finish.py "$(swift build ${SCRATCH:+--scratch-path "$SCRATCH"} --show-bin-path)/moe-slim" "$out"
rm -rf man && mkdir man && cp "$out"/*.1 man/
ls man
