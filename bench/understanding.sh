#!/bin/sh
# The reply new users get, end to end (issue 12): each line of the realistic
# test sets is sent as a fresh Telegram user through /webhook/telegram (real
# dvcbot, real Redis, Telegram stub) and the first reply is judged against the
# expected id (tests/e2e/understanding.py). Prints right reply %, off-topic
# lines answered as a procedure, in-scope lines answered "not understood",
# for the DEV parts and, apart, the SEALED parts and the wholly sealed fresh
# sets (tests/data/fresh*_sealed.tsv), run for the figure only: for sealed
# files understanding.py prints aggregates, never a line. Last, the follow-up
# conversations (tests/data/followups.tsv, tests/e2e/followups.py): a question
# about a procedure, then one that names no procedure.
#   sh bench/understanding.sh [BUILD_DIR] [ROOT]
# ROOT (default: this checkout) holds the intents/ and templates/ the binary
# uses: to measure another build, e.g. main before a change,
#   git archive <rev> | tar -x -C /tmp/before && make -C /tmp/before
#   sh bench/understanding.sh /tmp/before/build /tmp/before
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
data=${2:-$root}
sets="realistic_villager realistic_teen realistic_elder_volunteer offtopic"
dev="" sealed=""
for s in $sets; do
  dev="$dev $root/tests/data/$s.tsv"
  sealed="$sealed $root/tests/data/${s}_sealed.tsv"
done
echo "== DEV"
python3 "$root/tests/e2e/understanding.py" --bin "$build/dvcbot" --root "$data" $dev
echo "== SEALED"
python3 "$root/tests/e2e/understanding.py" --bin "$build/dvcbot" --root "$data" $sealed
for f in "$root"/tests/data/fresh*_sealed.tsv; do
  [ -e "$f" ] || continue
  echo "== $(basename "$f" .tsv)"
  python3 "$root/tests/e2e/understanding.py" --bin "$build/dvcbot" --root "$data" "$f"
done
if [ -e "$data/templates/followup_fee.txt" ]; then
  echo "== followups"
  python3 "$root/tests/e2e/followups.py" --bin "$build/dvcbot" --root "$data"
fi
