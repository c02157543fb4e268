# envinit — GNU make. `make` builds the three programs (envinit,
# envinit-setup, envinit-sshd), `make check` runs every test, `make demo`
# boots a throwaway environment.
PREFIX  ?= /opt/envinit
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection
STATIC   = -static -no-pie
STRIP    = -s

# SANITIZE=1 (`make check SANITIZE=1`): every program, test helper, unit test
# and the libssh they link are built with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-san/, never mixed with build/.
# - ASan cannot link -static: envinit, envinit-setup and envinit-sshd are
#   linked dynamically, and nothing is stripped (reports name functions and lines).
# - _FORTIFY_SOURCE is off: its checking wrappers would take calls past
#   ASan's interceptors, which check more.
# - The programs keep their names at the top of the tree, where the tests
#   run them; .build-mode records which build they came from, and a change
#   of SANITIZE rewrites it, so that the next make relinks them from the
#   other folder (a plain `make check` after a sanitized one runs the
#   normal binaries again).
# - The bundle's three programs are linked for the place the bundle is
#   installed: loader $(PREFIX)/lib/ld-linux-x86-64.so.2, libraries
#   from ../lib (libasan and libubsan included), so that a container without
#   a C library runs them; such a bundle works only at PREFIX.
# tests/run.sh sets the sanitizers' options and fails a test that leaves a
# report (see README, Testing); every sanitized program links SAN_RT, which
# sends UBSan's reports where those options say (see the file).
SAN_FLAGS :=
SAN_RT    :=
ifeq ($(SANITIZE),1)
BUILD      := build-san
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_RT      = $(BUILD)/tests/sanitizer/ubsan_report_path.o
HARDEN      = -U_FORTIFY_SOURCE -fstack-protector-strong -fstack-clash-protection
STATIC     :=
STRIP      :=
BUILD_MODE := sanitize
else
BUILD_MODE := normal
endif
MODE_STAMP := .build-mode
CFLAGS  ?= -g
# PID 1 is optimised for size: its binary is its resident memory (init/
# -Oz, and the envfile objects it links; -Oz over -Os saves 0.6 KiB,
# and PID 1 runs too little code for speed to tell).
OPT     ?= -O2
$(BUILD)/init/%.o: OPT = -Oz
# No unwind tables: C without exceptions; debuggers use the -g info.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(OPT) $(CFLAGS) $(SAN_FLAGS) -MMD -MP \
             -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
LDHARDEN = -Wl,-z,relro,-z,now -Wl,--gc-sections $(SAN_FLAGS) $(SAN_RT)

# Check, the unit tests' framework: the one way a unit test links it.
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

# Sources of each component; component fragments (*/build.mk) add to these.
INIT_SRC    := $(sort $(filter-out init/main.c init/setup_main.c,$(wildcard init/*.c)))
ENVFILE_SRC := $(sort $(wildcard envfile/*.c))

INIT_OBJ    := $(INIT_SRC:%.c=$(BUILD)/%.o)
ENVFILE_OBJ := $(ENVFILE_SRC:%.c=$(BUILD)/%.o)

# PID 1 links only what it runs for the container's whole life; the rest
# of init/ and envfile/ goes into envinit-setup (see envinit.h).
CORE_OBJ := $(addprefix $(BUILD)/init/,main.o cli.o config.o loop.o signals.o supervise.o \
              status.o ssh_run.o ssh_decide.o ssh_fallback.o ssh_procnet.o cvm.o plan.o)
# The status file's folders are made the way envfile makes root's folders,
# and the clock, the logger and the whole-file reader are the ones the
# three programs share.
CORE_OBJ += $(BUILD)/envfile/dirs.o $(BUILD)/envfile/clock.o $(BUILD)/envfile/log.o $(BUILD)/envfile/readall.o
# They are part of PID 1: built for size like init/ (the other programs
# that link them lose nothing that matters).
$(filter $(BUILD)/envfile/%,$(CORE_OBJ)): OPT = -Oz

BINS  = envinit envinit-setup
TESTS =

.PHONY: all check unit integration demo install clean fuzz fuzz-smoke bundle dist deps bench lint
# The default goal; its programs are listed after the components' fragments
# below have added theirs to BINS.
all:

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The version `envinit --version` prints and `make dist` names its tarball
# with: `git describe --tags --dirty` in a checkout with a tag; without one,
# init/main.c's release number and the commit (0.1.0-g1a2b3c4[-dirty]);
# outside git, the VERSION file, else that release number. `make
# VERSION=...` sets it outright (the Docker build has no .git).
ifeq ($(origin VERSION),undefined)
VERSION_BASE := $(shell sed -n 's/^\#define ENVINIT_VERSION "\(.*\)"$$/\1/p' init/main.c)
VERSION := $(shell git describe --tags --dirty 2>/dev/null || \
             { h=$$(git describe --always --dirty 2>/dev/null) && echo "$(VERSION_BASE)-g$$h"; } || \
             cat VERSION 2>/dev/null || echo "$(VERSION_BASE)")
endif
# main.o is rebuilt when the version changes (the stamp is rewritten only then).
$(BUILD)/VERSION: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/init/main.o: ALL_CFLAGS += -DENVINIT_VERSION='"$(VERSION)"'
$(BUILD)/init/main.o: $(BUILD)/VERSION
.PHONY: FORCE
FORCE:

# The programs are relinked when the build mode changes (see SANITIZE).
$(MODE_STAMP): FORCE
	@echo '$(BUILD_MODE)' | cmp -s - $@ || echo '$(BUILD_MODE)' >$@
LINK_OBJ = $(filter-out $(MODE_STAMP) $(LIBSSH_A),$^)

ENVINIT_OBJ := $(CORE_OBJ)
SETUP_OBJ   := $(BUILD)/init/setup_main.o $(INIT_OBJ) $(ENVFILE_OBJ)

# The C library's unwind tables are 47 KiB of PID 1's resident set that
# nothing reads: our code has none (see ALL_CFLAGS), and glibc reads its
# own only for thread cancellation and backtrace(3), which envinit never
# calls. The sanitized build keeps them: ASan unwinds its reports with them.
ifeq ($(SANITIZE),1)
NO_EH_FRAME :=
else
NO_EH_FRAME := -Wl,-T,init/no-eh-frame.ld
endif
envinit: $(ENVINIT_OBJ) init/no-eh-frame.ld $(MODE_STAMP)
	$(CC) $(STATIC) $(LDHARDEN) $(NO_EH_FRAME) $(STRIP) -o $@ $(filter %.o,$(LINK_OBJ))

envinit-setup: $(SETUP_OBJ) $(MODE_STAMP)
	$(CC) $(STATIC) $(LDHARDEN) $(STRIP) -o $@ $(LINK_OBJ)

# libFuzzer targets: clang with the fuzzer, ASan and UBSan; each component's
# fragment adds its targets (build/fuzz/fuzz_NAME) to FUZZ_TARGETS, and
# compiles the code a target needs again with this instrumentation. The seed
# corpus of fuzz_NAME is tests/fuzz/corpus/NAME. A long run:
#   mkdir -p build/fuzz/corpus-NAME && build/fuzz/fuzz_NAME \
#     -max_total_time=600 build/fuzz/corpus-NAME tests/fuzz/corpus/NAME
# (generated corpora stay under build/). `make fuzz-smoke` runs each target
# FUZZ_SECONDS (default 10) on its seeds.
FUZZ_CC     ?= clang
FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_TARGETS :=
FUZZ_SECONDS ?= 10

-include $(sort $(wildcard */*.mk))
all: $(BINS)

# Every sanitized link takes SAN_RT through LDHARDEN. Order-only, to stay
# out of the rules' $^: after a change to it, `rm -rf build-san` (or make
# clean) relinks everything.
ifeq ($(SANITIZE),1)
$(BINS) $(TESTS) $(HELPERS) $(SFTP_SERVER) $(BUNDLE_INIT) $(BUNDLE_SETUP) $(BUNDLE_SSHD): | $(SAN_RT)
endif

fuzz: $(FUZZ_TARGETS)

fuzz-smoke: fuzz
	@bash tests/fuzz/smoke.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Missing Debian packages are installed (as root) or named before building.
deps:
	@bash .ci/deps build

check: deps-test
	@$(MAKE) --no-print-directory all $(TESTS) $(TESTS_DEPS)
	@bash tests/run.sh $(TESTS)

deps-test:
	@bash .ci/deps build test docker

.PHONY: deps-test

demo: deps-test
	@$(MAKE) --no-print-directory all bundle $(HELPERS)
	bash tests/demo.sh

# The benchmarks of BENCHMARKS.md, each against its peers in one run.
bench:
	@bash .ci/deps build test bench
	@$(MAKE) --no-print-directory all
	bash bench/init.sh
	bash bench/ssh.sh

# The bundle's layout (bin/; lib/ only under SANITIZE=1), relocatable:
# PREFIX is where the image keeps it, /opt/envinit by default.
install: bundle
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8
	cp -a dist/envinit/bin/. $(DESTDIR)$(PREFIX)/bin/
	if [ -d dist/envinit/lib ]; then install -d $(DESTDIR)$(PREFIX)/lib && cp -a dist/envinit/lib/. $(DESTDIR)$(PREFIX)/lib/; fi
	install -m 0644 envinit.8 $(DESTDIR)$(PREFIX)/share/man/man8/

# dist/envinit-VERSION-ARCH.tar.gz: the bundle under opt/envinit/, so that
# `tar -C / -xzf` (or a Dockerfile's `ADD envinit-....tar.gz /`) installs it
# at /opt/envinit; and its .sha256 for `sha256sum -c`. Reproducible: sorted
# names, owner 0:0, modes normalised, every mtime SOURCE_DATE_EPOCH (default:
# the last commit's time), gzip without a name or time stamp.
DIST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || uname -m)
DIST_TGZ   = dist/envinit-$(VERSION)-$(DIST_ARCH).tar.gz
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
dist: bundle
	rm -rf dist/.stage && mkdir -p dist/.stage/opt
	cp -a $(BUNDLE) dist/.stage/opt/envinit
	tar -C dist/.stage --format=gnu --sort=name --owner=0 --group=0 --numeric-owner \
	  --mode=u+rwX,go+rX,go-w --mtime=@$(SOURCE_DATE_EPOCH) -cf - opt | gzip -9 -n >$(DIST_TGZ)
	rm -rf dist/.stage
	cd dist && sha256sum $(notdir $(DIST_TGZ)) >$(notdir $(DIST_TGZ)).sha256
	@echo "dist: $(DIST_TGZ) ($$(du -h $(DIST_TGZ) | cut -f1))"

# Static analysis of every component and its unit tests: cppcheck, clang-tidy (settings in
# .clang-tidy), gcc -fanalyzer (known findings explained in .ci/analyzer-known)
# and no call cycle between the files of a component (.ci/cycles).
lint: $(LIBSSH_A) all
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --inline-suppr --std=c11 -D_GNU_SOURCE --suppress=missingIncludeSystem \
	  init envfile sshfallback tests/unit
	clang-tidy --quiet --warnings-as-errors='*' init/*.c envfile/*.c sshfallback/*.c tests/unit/*.c -- \
	  -std=c11 -D_GNU_SOURCE -I$(LIBSSH_DIR)/include
	bash .ci/analyzer $(LIBSSH_DIR)/include
	/usr/bin/python3 .ci/cycles $(BUILD) init envfile sshfallback

clean:
	rm -rf build build-san $(BINS) $(MODE_STAMP) dist tests/.work

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
