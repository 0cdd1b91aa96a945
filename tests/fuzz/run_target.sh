#!/bin/sh
# Runs one libFuzzer target for a while over its seeds; `make fuzz` starts
# one per core. Prints one line (and the log's tail on failure); exits
# non-zero on a crash, a sanitizer report, a leak or a timeout.
#   tests/fuzz/run_target.sh BUILD TARGET SECONDS TIMEOUT
set -u
build=$1 t=$2 seconds=$3 timeout=$4
mkdir -p "$build/corpus/$t" "$build/logs"
log=$build/logs/$t.log
dict=""
[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
# shellcheck disable=SC2046 # the options file holds several words
if DVCBOT_DATA_DIR=$(pwd) "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout="$timeout" \
        -print_final_stats=1 -artifact_prefix="$build/crash-$t-" $dict \
        $(cat "tests/fuzz/$t.options" 2>/dev/null) \
        "$build/corpus/$t" "tests/fuzz/$t" >"$log" 2>&1; then
    echo "fuzz $t: $seconds s, no crash; $(awk '/^stat::number_of_executed_units/ { runs = $2 }
        /^#[0-9]+.*cov: / { sub(/.*cov: /, "cov: "); sub(/ lim:.*/, ""); last = $0 }
        END { print runs " runs, " last }' "$log")"
else
    tail -n 30 "$log"
    echo "fuzz $t: FAILED (input: $build/crash-$t-*, log: $log)"
    exit 1
fi
