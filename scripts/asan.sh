#!/usr/bin/env bash
# Runs the hostile-input tests (the malformed and hostile corpora, interrupted and unsafe outputs) and the kernel
# order tests under AddressSanitizer, in a build folder of its own. Any invalid read or write fails the run.
#
#     scripts/asan.sh [extra swift test options]
set -euo pipefail
cd "$(dirname "$0")/.."
filter='Malformed|Hostile|OutputSafety|Interrupt|Fault|GEMMOrder|SafeTensors|Verify|LoRAError|TokenizerRefusal|CountsFile|DataReader'
# The executable the command tests run is built with the sanitizer too; leaks at exit are not findings here, and
# memory bounds in the tests are loosened for the sanitizer's own memory (MeasuredRun.bound).
export MOESLIM_SANITIZER=address
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1
# The sanitizer prints its own report; the Swift runtime's backtracer would then start on the abort and, holding
# the test runner's output open, keep `swift test` waiting long after the test process died.
export SWIFT_BACKTRACE=enable=no
swift test --scratch-path .build-asan --sanitize=address --filter "$filter" "$@"
