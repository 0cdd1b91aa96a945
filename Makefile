# dvcbot — build, test and run.  See README.md.
#
#   make            build build/dvcbot (release flags)
#   make run        install missing Debian packages, build, start a private
#                   redis (unless REDIS_URL is set) and `dvcbot serve`;
#                   Ctrl-C stops both
#   make test       install missing packages, build, run unit + end-to-end tests
#   make asan       the same suite against an ASan+UBSan build
#   make valgrind   the same suite under valgrind (-O0, system malloc)
#   make bench      run the benchmarks in bench/
#   make fuzz       build the libFuzzer targets (clang) and run each for
#                   FUZZ_SECONDS (60); any crash fails (tests/fuzz/README.md)
#   make deps       apt-get install whatever Debian 12 package is missing

# The browser tests (tests/e2e/browser.py) drive Debian's chromium.
BROWSER_PKGS := chromium chromium-driver python3-selenium
PKGS      := libuv libcurl libcjson libpcre2-8 hiredis libutf8proc libcrypto
DEB_PKGS  := gcc make pkg-config libc6-dev libuv1-dev libhttp-parser-dev \
             libcurl4-openssl-dev libcjson-dev libpcre2-dev libhiredis-dev \
             libutf8proc-dev libssl-dev libcmocka-dev redis-server python3 \
             ca-certificates $(BROWSER_PKGS)
VALGRIND_PKGS := valgrind
# Only `make fuzz` needs these: clang and its libFuzzer/sanitizer runtimes.
FUZZ_PKGS := clang libclang-rt-14-dev

BUILD    ?= build
SAN      ?=
# The builds the targets below start run JOBS compiles at once (default: one
# per core), unless make itself was given -j.
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
PAR       = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))
PREFIX   ?= /usr/local

WARN     := -std=c11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
            -Wwrite-strings -Wformat=2 -Wvla -fno-common -Werror
CPPFLAGS += -D_GNU_SOURCE -Iinclude
# Debug information of the sanitizer and fuzz builds: line tables and
# function names (-g1) are all a sanitizer report prints (file:line of each
# frame, inlined frames too); full -g only adds local variables for a
# debugger, and costs ~13 % of the ASan library's compile (bench/README.md,
# "Session 11"). `make asan SAN_DEBUG=-g` for a gdb session.
SAN_DEBUG ?= -g1
ifeq ($(SAN),asan)
# GCC leaves float-cast-overflow out of "undefined"; the fuzz replays need it.
OPT      := -O1 $(SAN_DEBUG) -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
LDOPT    := -fsanitize=address,undefined,float-cast-overflow
else ifeq ($(SAN),valgrind)
OPT      := -O0 -g
LDOPT    :=
else ifeq ($(SAN),fuzz)
CC       := clang
OPT      := -O1 $(SAN_DEBUG) -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
LDOPT    := -fsanitize=fuzzer,address,undefined
else
OPT      := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDOPT    := -Wl,-z,relro,-z,now
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lm
CFLAGS  += $(WARN) $(OPT) $(PKG_CFLAGS)
LDFLAGS += $(LDOPT)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_OBJ := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/unit_%.o)
# The unit tests are one program (one link instead of 63: ~0.3 CPU s each under
# ASan): each test's main() is compiled as unit_main_<test> and
# $(BUILD)/tests/<test> is a hard link to $(BUILD)/tests/unit-tests, which runs
# the test its name (argv[0]) says. Each test stays its own process and job.
UNIT_MULTI := $(BUILD)/tests/unit-tests
# Fuzz targets: libFuzzer binaries with SAN=fuzz; in every other build, the
# same targets linked with a plain driver that replays tests/fuzz/<target>/
# (the suite runs them: every input that ever crashed stays a test).
FUZZ_TARGETS := http http_client telegram zalo matcher tpl vnpay records
FUZZ_SRC := $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c)
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_COMMON := tests/fuzz/fuzz_support.c
# The library modules the fuzz targets link: what ld takes from libdvcbot.a
# for them (`make fuzz-objects` prints it from the replay build). The
# libFuzzer build compiles only these, not the whole library again; a module
# missing here fails its link (undefined reference): add it.
FUZZ_LIB := admin_tokens buf catalog clock commune config crypto dialog dialog_route dialog_stored \
           dict dossier dossier_input dossier_reply facets fcall_group file followup html_escape \
           http_client http_client_prep http_curl http_message http_parse http_plain http_pool \
           http_proxy_env http_req_scan http_request http_resp_scan http_scan http_server http_wire \
           json_arena json_print log lookup_guard matcher matcher_augment matcher_cache matcher_gate \
           matcher_mask matcher_needs matcher_settings matcher_train mem metrics msg nbayes netaddr \
           normalize nothing_asked notify outbox outbox_entry outbox_ledger outbox_queue \
           outbox_recover outbox_retry outbox_store outside payment payment_ipn procedure_fee \
           procedure_groups procedure_reply recipient record_reader redis_library redis_script refs \
           reply_pool rewrite softmax store store_cmd store_fire store_poll store_reply store_resp \
           store_url strfmt telegram telegram_update tpl vnpay vnpay_query vnspell webhook zalo \
           zalo_token zalo_verdict
ifeq ($(SAN),fuzz)
LIB_OBJ  := $(FUZZ_LIB:%=$(BUILD)/obj/%.o)
# The rest of the library still goes through clang's warnings (-Werror),
# without code generation (-fsyntax-only): 18 of the 45 CPU s a full
# compile of them takes (header parsing is most of it).
LIB_CHK  := $(filter-out $(LIB_OBJ:.o=.chk),$(LIB_SRC:src/%.c=$(BUILD)/obj/%.chk))
FUZZ_DRIVER :=
else
FUZZ_DRIVER := tests/fuzz/replay.c
endif

.PHONY: FORCE all run test asan valgrind bench clean deps install check unit e2e suite fuzz fuzz-deps fuzz-build fuzz-objects fuzz-targets

all: $(BUILD)/dvcbot $(UNIT_BIN) $(FUZZ_BIN)

# -MMD -MP: each object depends on the headers it includes (build/obj/*.d);
# an object without its .d file (built before) is built again.
# clang writes the .d file after the object: touch keeps the object newer.
$(BUILD)/obj/%.o: src/%.c $(BUILD)/obj/%.d | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
	@touch $@

$(BUILD)/obj/%.chk: src/%.c $(BUILD)/obj/%.d | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -MF $(BUILD)/obj/$*.d -MT $@ -fsyntax-only $<
	@touch $@

$(BUILD)/libdvcbot.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/dvcbot: src/main.c $(BUILD)/libdvcbot.a $(BUILD)/obj/main.d
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -MF $(BUILD)/obj/main.d $< $(BUILD)/libdvcbot.a \
	    $(LDFLAGS) $(PKG_LIBS) -o $@

$(BUILD)/obj/unit_%.o: tests/unit/%.c $(BUILD)/obj/unit_%.d | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags cmocka) -MMD -MP \
	    -include tests/unit/unit_main.h -Dmain=unit_main_$* -c $< -o $@
	@touch $@

# The table of tests for unit_tests.c (prototypes, the list), from UNIT_SRC:
# rewritten only when the list of tests changes.
$(BUILD)/unit_mains.h: FORCE | $(BUILD)/obj
	@{ printf '/* generated by the Makefile: one line per tests/unit/test_*.c */\n'; \
	   for t in $(UNIT_SRC:tests/unit/%.c=%); do printf 'int unit_main_%s(void);\n' $$t; done; \
	   printf '#define UNIT_TESTS'; \
	   for t in $(UNIT_SRC:tests/unit/%.c=%); do printf ' X(%s)' $$t; done; echo; } > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(BUILD)/obj/unit_tests.o: tests/unit/unit_tests.c $(BUILD)/unit_mains.h | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -include $(BUILD)/unit_mains.h -c $< -o $@

$(UNIT_MULTI): $(UNIT_OBJ) $(BUILD)/obj/unit_tests.o $(BUILD)/libdvcbot.a | $(BUILD)/tests
	$(CC) $(CFLAGS) $(UNIT_OBJ) $(BUILD)/obj/unit_tests.o $(BUILD)/libdvcbot.a \
	    $(LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs cmocka) -o $@

$(BUILD)/tests/%: $(UNIT_MULTI)
	ln -f $< $@

FORCE:

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON) $(FUZZ_DRIVER) $(BUILD)/libdvcbot.a \
                     $(BUILD)/obj/fuzz_%.d | $(BUILD)/fuzz $(BUILD)/obj
	$(CC) $(CPPFLAGS) -Itests/fuzz -DDVCBOT_SOURCE_DIR='"$(CURDIR)"' $(CFLAGS) \
	    -MMD -MP -MF $(BUILD)/obj/fuzz_$*.d \
	    $< $(FUZZ_COMMON) $(FUZZ_DRIVER) $(BUILD)/libdvcbot.a $(LDFLAGS) $(PKG_LIBS) -o $@
	@touch $@

DEP_FILES := $(LIB_OBJ:.o=.d) $(LIB_CHK:.chk=.d) $(BUILD)/obj/main.d $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/unit_%.d) \
             $(FUZZ_TARGETS:%=$(BUILD)/obj/fuzz_%.d)
$(DEP_FILES):
-include $(wildcard $(DEP_FILES))

$(BUILD)/obj $(BUILD)/tests $(BUILD)/fuzz:
	mkdir -p $@

# ---- packages --------------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "deps: run as root (or: sudo apt-get install$$missing)"; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# ---- running ---------------------------------------------------------------
# Without REDIS_URL, a private redis-server on a unix socket in $(RUN_DIR); it
# is stopped with dvcbot (Ctrl-C or SIGTERM to make). Only a server make run
# started is stopped: one named by REDIS_URL, or already answering on
# $(RUN_DIR)/redis.sock (another make run, one started by hand), is left
# running. `dvcbot chat` run from this directory finds it.
RUN_DIR ?= $(CURDIR)/run
# glibc keeps up to 256 freed blocks per size (<= 1 KiB) per thread instead of 7: an
# update's ~120 allocations are reused without malloc's slow path (-2.2 % instructions
# per update; at most ~9 MiB kept per thread, bench/README.md "path10b"). As in docker/Dockerfile.
MALLOC_TUNABLES = glibc.malloc.tcache_count=256
# The matcher's trained weights (README "Configuration", DVCBOT_CACHE_DIR): the
# build's own cache, the one `make test` fills, so a start after the suite does
# not train again; `make clean` removes it with the binaries its keys name.
RUN_CACHE = $(abspath $(BUILD))/cache

run: deps
	@$(MAKE) --no-print-directory $(PAR) all
	@mkdir -p $(RUN_DIR)
	@started=""; \
	if [ -z "$$REDIS_URL" ]; then \
	    if redis-cli -s $(RUN_DIR)/redis.sock ping >/dev/null 2>&1; then \
	        echo "redis: the server already on unix://$(RUN_DIR)/redis.sock (not started here, left running)"; \
	    else \
	        started=1; \
	        redis-server --port 0 --unixsocket $(RUN_DIR)/redis.sock --unixsocketperm 700 \
	            --dir $(RUN_DIR) --appendonly yes --daemonize yes \
	            --pidfile $(RUN_DIR)/redis.pid --logfile $(RUN_DIR)/redis.log; \
	        for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli -s $(RUN_DIR)/redis.sock ping >/dev/null 2>&1 && break; sleep 0.2; done; \
	        echo "redis: private server on unix://$(RUN_DIR)/redis.sock (data in $(RUN_DIR))"; \
	    fi; \
	fi; \
	echo "web chat: http://$${DVCBOT_LISTEN:-127.0.0.1:8080}/webchat"; \
	echo "terminal chat: $(BUILD)/dvcbot chat (another terminal, from this directory)"; \
	if [ -n "$$started" ]; then echo "stop: Ctrl-C (stops dvcbot, then its private redis)"; \
	else echo "stop: Ctrl-C (stops dvcbot; redis is left running)"; fi; \
	REDIS_URL=$${REDIS_URL:-unix://$(RUN_DIR)/redis.sock} DVCBOT_DATA_DIR=$${DVCBOT_DATA_DIR:-$(CURDIR)} \
	    DVCBOT_CACHE_DIR=$${DVCBOT_CACHE_DIR:-$(RUN_CACHE)} \
	    GLIBC_TUNABLES=$${GLIBC_TUNABLES:-$(MALLOC_TUNABLES)} $(BUILD)/dvcbot serve & pid=$$!; \
	trap 'kill -TERM $$pid 2>/dev/null' INT TERM HUP; \
	wait $$pid; status=$$?; \
	while kill -0 $$pid 2>/dev/null; do wait $$pid; status=$$?; done; \
	if [ -n "$$started" ]; then \
	    redis-cli -s $(RUN_DIR)/redis.sock shutdown >/dev/null 2>&1; \
	    echo "redis: private server stopped"; \
	fi; \
	exit $$status

# ---- tests -----------------------------------------------------------------
# `make test` is what CI runs; it ends with one line "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory $(PAR) all
	@$(MAKE) --no-print-directory suite

suite:
	@python3 tests/run_suite.py --build $(BUILD) $(SUITE_ARGS)

asan:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory $(PAR) BUILD=build/asan SAN=asan all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) --no-print-directory BUILD=build/asan SAN=asan suite

valgrind:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_PKGS="$(VALGRIND_PKGS)"
	@$(MAKE) --no-print-directory $(PAR) BUILD=build/valgrind SAN=valgrind all
	@$(MAKE) --no-print-directory BUILD=build/valgrind SAN=valgrind suite \
	    SUITE_ARGS="--wrap 'valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99'"

check: all
	DVCBOT_DATA_DIR=$(CURDIR) $(BUILD)/dvcbot check

bench: deps
	@$(MAKE) --no-print-directory $(PAR) all
	@for b in bench/*.sh bench/*.py; do [ -f "$$b" ] || continue; echo "== $$b"; \
	    case $$b in *.py) python3 $$b --build $(BUILD);; *) sh $$b $(BUILD);; esac || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dvcbot
	install -m 755 $(BUILD)/dvcbot $(DESTDIR)$(PREFIX)/bin/dvcbot
	cp -r intents templates redis $(DESTDIR)$(PREFIX)/share/dvcbot/

# ---- fuzzing ---------------------------------------------------------------
# Each target runs FUZZ_SECONDS over its seeds (tests/fuzz/<target>/, read
# only) and what earlier runs kept (build/fuzz/corpus/<target>), with
# tests/fuzz/<target>.dict and .options when present, JOBS targets at once
# (tests/fuzz/run_target.sh). A crash leaves the input in
# build/fuzz/crash-<target>-*; every target runs, then make fails.
# FUZZ_TARGETS="http zalo" picks some. Logs: build/fuzz/logs/<target>.log.
FUZZ_SECONDS ?= 60
# Longest one input may take. A campaign sharing a busy machine at nice 19
# can be starved for that long: raise it there, not in CI.
FUZZ_TIMEOUT ?= 20
FUZZ_BUILD := build/fuzz
fuzz-deps:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_PKGS="$(FUZZ_PKGS)"

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(PAR) BUILD=$(FUZZ_BUILD) SAN=fuzz fuzz-targets

fuzz-targets: $(FUZZ_BIN) $(LIB_CHK)

# The library modules the replay builds of the fuzz targets link (FUZZ_LIB).
fuzz-objects: $(FUZZ_BIN:%=%.map)
	@cat $^ | sed -n 's/^[^ ]*libdvcbot\.a(\([a-z_0-9]*\)\.o).*/\1/p' | sort -u | tr '\n' ' '; echo

$(BUILD)/fuzz/%.map: tests/fuzz/%.c $(FUZZ_COMMON) $(FUZZ_DRIVER) $(BUILD)/libdvcbot.a | $(BUILD)/fuzz
	$(CC) $(CPPFLAGS) -Itests/fuzz -DDVCBOT_SOURCE_DIR='"$(CURDIR)"' $(CFLAGS) \
	    $< $(FUZZ_COMMON) $(FUZZ_DRIVER) $(BUILD)/libdvcbot.a $(LDFLAGS) $(PKG_LIBS) \
	    -Wl,-Map=$@ -o $(BUILD)/fuzz/$*.mapped && rm -f $(BUILD)/fuzz/$*.mapped

fuzz: fuzz-build
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(JOBS) -I@ \
	    sh tests/fuzz/run_target.sh $(FUZZ_BUILD) @ $(FUZZ_SECONDS) $(FUZZ_TIMEOUT) \
	    || { echo "fuzz: a target failed (above)"; exit 1; }

clean:
	rm -rf build
