# envinit — GNU make. `make` builds the three programs (envinit,
# envinit-setup, envinit-sshd), `make check` runs every test, `make demo`
# boots a throwaway environment.
PREFIX  ?= /opt/envinit
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection
CFLAGS  ?= -g
# PID 1 is optimised for size: its binary is its resident memory (init/ -Os).
OPT     ?= -O2
$(BUILD)/init/%.o: OPT = -Os
# No unwind tables: C without exceptions; debuggers use the -g info.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(OPT) $(CFLAGS) -MMD -MP \
             -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
LDHARDEN = -Wl,-z,relro,-z,now -Wl,--gc-sections
STATIC   = -static -no-pie

# Sources of each component; component fragments (*/build.mk) add to these.
INIT_SRC    := $(sort $(filter-out init/main.c init/setup_main.c,$(wildcard init/*.c)))
ENVFILE_SRC := $(sort $(wildcard envfile/*.c))

INIT_OBJ    := $(INIT_SRC:%.c=$(BUILD)/%.o)
ENVFILE_OBJ := $(ENVFILE_SRC:%.c=$(BUILD)/%.o)

# PID 1 links only what it runs for the container's whole life; the rest
# of init/ and envfile/ goes into envinit-setup (see envinit.h).
CORE_OBJ := $(addprefix $(BUILD)/init/,main.o cli.o config.o log.o loop.o signals.o supervise.o \
              status.o ssh_run.o ssh_decide.o ssh_fallback.o ssh_procnet.o cvm.o)

BINS  = envinit envinit-setup
TESTS =

.PHONY: all check unit integration demo install clean fuzz bundle deps bench lint
# The default goal; its programs are listed after the components' fragments
# below have added theirs to BINS.
all:

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

envinit: $(CORE_OBJ)
	$(CC) $(STATIC) $(LDHARDEN) -s -o $@ $^ -l:libinih.a

envinit-setup: $(BUILD)/init/setup_main.o $(INIT_OBJ) $(ENVFILE_OBJ)
	$(CC) $(STATIC) $(LDHARDEN) -s -o $@ $^ -l:libinih.a

-include $(sort $(wildcard */*.mk))
all: $(BINS)

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

# The bundle's layout (bin/, lib/), relocatable: PREFIX is where the image
# keeps it, /opt/envinit by default.
install: bundle
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/share/man/man8
	cp -a dist/envinit/bin/. $(DESTDIR)$(PREFIX)/bin/
	cp -a dist/envinit/lib/. $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 envinit.8 $(DESTDIR)$(PREFIX)/share/man/man8/

# Static analysis of every component (settings in .clang-tidy).
lint: $(LIBSSH_A)
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --inline-suppr --std=c11 -D_GNU_SOURCE --suppress=missingIncludeSystem \
	  init envfile sshfallback
	clang-tidy --quiet --warnings-as-errors='*' init/*.c envfile/*.c sshfallback/*.c -- -std=c11 -D_GNU_SOURCE \
	  -I$(LIBSSH_DIR)/include

clean:
	rm -rf $(BUILD) $(BINS) dist tests/.work

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
