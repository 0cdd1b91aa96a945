#!/bin/sh
# Dossier enumeration: what an attacker learns in one day against the
# verification limits (lookup_guard.h), simulated on a real redis-server by
# tests/unit/test_lookup_guard.c with the time passed in. Larger than the
# unit test's run; prints one line per scenario with the share learned.
#
#   sh bench/enumeration.sh [build dir]
#
# Figures (2026-12-01, shared 2-core machine): bench/README.md.
BUILD=${1:-build}
DVCBOT_SIM_DOSSIERS=${DVCBOT_SIM_DOSSIERS:-50000} \
DVCBOT_SIM_ADDRESSES=${DVCBOT_SIM_ADDRESSES:-1000} \
DVCBOT_SIM_AGED=${DVCBOT_SIM_AGED:-1000} \
DVCBOT_SIM_MANY_ADDRESSES=${DVCBOT_SIM_MANY_ADDRESSES:-5000} \
CMOCKA_TEST_ABORT=0 "$BUILD/tests/test_lookup_guard" 2>&1 | grep -E '^enumeration|FAILED|PASSED'
