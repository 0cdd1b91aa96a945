#!/bin/sh
# Matcher throughput on one core and catalog start-up time.
#   sh bench/matcher.sh [BUILD_DIR]     (make bench passes the build dir)
# Classifies every line of bench/matcher_lines.txt (typical 25–70 byte lines
# people type) ROUNDS times inside one process (`dvcbot classify --bench`),
# pinned to one CPU when taskset is available.
# Measured 2026-12-02 on the 2-core dev machine: ~330 000 classifications/s,
# start-up (load, compile and train the catalog) ~40 ms.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
rounds=${ROUNDS:-20000}
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
DVCBOT_DATA_DIR=${DATA_DIR:-$root} $pin "$build/dvcbot" classify --bench "$rounds" < "$here/matcher_lines.txt"
