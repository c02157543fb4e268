# sshfallback: envinit-sshd (static PIE: libssh, libcap-ng, libcrypto and
# zlib linked in), its unit tests and `make bundle`.
SSHF_SRC     := $(sort $(wildcard sshfallback/*.c))
SSHF_OBJ     := $(SSHF_SRC:%.c=$(BUILD)/%.o)
SSHF_LIBOBJ  := $(filter-out $(BUILD)/sshfallback/main.o,$(SSHF_OBJ))
SSHF_TEST    := $(BUILD)/tests/unit/test_sshfallback
SSHF_FWDTEST := $(BUILD)/tests/unit/test_sshfallback_fwd

# libssh: Debian's source package plus libssh.patch, built static by
# libssh.sh (see there why); its headers come first for this component.
LIBSSH_DIR   := $(BUILD)/libssh
LIBSSH_A     := $(LIBSSH_DIR)/lib/libssh.a
SSHF_LIBS    := $(LIBSSH_A) -lcap-ng -lcrypto -lz

$(LIBSSH_A): sshfallback/libssh.sh sshfallback/libssh.patch
	$(LIBSSH_ENV) bash sshfallback/libssh.sh $(LIBSSH_DIR)

# The sanitized libssh (build-san/libssh) is built from the source package
# the normal build fetched, when there is one: no second download.
ifeq ($(SANITIZE),1)
LIBSSH_ENV = LIBSSH_CFLAGS='-U_FORTIFY_SOURCE $(SAN_FLAGS)' \
  $(if $(wildcard build/libssh/source/libssh_*.dsc),LIBSSH_SRC=$(CURDIR)/build/libssh/source)
endif

$(SSHF_OBJ) $(BUILD)/tests/unit/test_sshfallback.o $(BUILD)/tests/unit/test_sshfallback_fwd.o: \
  ALL_CFLAGS += -I$(LIBSSH_DIR)/include
$(SSHF_OBJ) $(BUILD)/tests/unit/test_sshfallback.o $(BUILD)/tests/unit/test_sshfallback_fwd.o: \
  | $(LIBSSH_A)

BINS  += envinit-sshd
TESTS += $(SSHF_TEST) $(SSHF_FWDTEST)
TESTS_DEPS += bundle

# Static, so that it runs in an image without a C library, and a PIE, so
# that a server facing the network keeps address-space randomisation. It
# resolves no user through NSS (envfile reads the passwd and group files);
# what still calls NSS (host names of forwarding, SFTP's owner names) uses
# glibc's built-in files and dns modules, which need no shared library:
# the linker's warnings about getaddrinfo, getpwnam and the like are
# expected, as is the one about dlopen (libcrypto's loadable engines and
# providers, which the server never asks for). Sanitized it is dynamic
# (ASan cannot link static).
SSHD_LINK := -static-pie
ifeq ($(SANITIZE),1)
SSHD_LINK := -pie
endif
envinit-sshd: $(SSHF_OBJ) $(ENVFILE_OBJ) $(LIBSSH_A) $(MODE_STAMP)
	$(CC) $(SSHD_LINK) $(LDHARDEN) -o $@ $(LINK_OBJ) $(SSHF_LIBS)

$(SSHF_TEST): $(BUILD)/tests/unit/test_sshfallback.o $(SSHF_LIBOBJ) $(ENVFILE_OBJ) $(LIBSSH_A)
	@mkdir -p $(@D)
	$(CC) -pie $(LDHARDEN) -o $@ $(filter-out $(LIBSSH_A),$^) $(SSHF_LIBS) $(CHECK_LIBS)

$(SSHF_FWDTEST): $(BUILD)/tests/unit/test_sshfallback_fwd.o $(SSHF_LIBOBJ) $(ENVFILE_OBJ) $(LIBSSH_A)
	@mkdir -p $(@D)
	$(CC) -pie $(LDHARDEN) -o $@ $(filter-out $(LIBSSH_A),$^) $(SSHF_LIBS) $(CHECK_LIBS)

# A software security key for the tests: an OpenSSH SecurityKeyProvider
# (ssh-keygen -w, ssh -o SecurityKeyProvider=) whose signature flags a test
# sets (tests/helpers/sk_dummy.c).
SK_DUMMY := $(BUILD)/tests/helpers/libsk_dummy.so
# It is loaded into OpenSSH's programs, which have no sanitizer runtime.
$(SK_DUMMY): SAN_FLAGS =
$(SK_DUMMY): SAN_RT =
$(SK_DUMMY): tests/helpers/sk_dummy.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(LDHARDEN) -o $@ $< -lcrypto
TESTS_DEPS += $(SK_DUMMY)

# dist/envinit: the relocatable bundle, three static programs in bin/;
# envinit execs bin/envinit-sshd directly, so nothing of the image's libc or
# libraries is used. Under SANITIZE=1 the three are dynamic, linked for the
# place the bundle is installed (loader $(PREFIX)/lib/ld-linux-x86-64.so.2,
# libraries from ../lib), and lib/ holds what ldd names for the same
# programs linked for this machine (./envinit and the others: ldd cannot
# follow a loader that is not installed yet).
BUNDLE := dist/envinit
ifeq ($(SANITIZE),1)
BUNDLE_INIT   := $(BUILD)/bundle/envinit
BUNDLE_SETUP  := $(BUILD)/bundle/envinit-setup
BUNDLE_SSHD   := $(BUILD)/bundle/envinit-sshd
# $(PREFIX)/lib after $$ORIGIN/../lib: without /proc (a bare chroot) the
# loader cannot tell $$ORIGIN.
BUNDLE_LDFLAGS = -Wl,--dynamic-linker=$(PREFIX)/lib/ld-linux-x86-64.so.2 \
                 -Wl,--disable-new-dtags -Wl,-rpath,'$$ORIGIN/../lib:$(PREFIX)/lib'
$(BUNDLE_INIT): $(ENVINIT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) $(BUNDLE_LDFLAGS) -o $@ $^
$(BUNDLE_SETUP): $(SETUP_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) $(BUNDLE_LDFLAGS) -o $@ $^
$(BUNDLE_SSHD): $(SSHF_OBJ) $(ENVFILE_OBJ) $(LIBSSH_A)
	@mkdir -p $(@D)
	$(CC) -pie $(LDHARDEN) $(BUNDLE_LDFLAGS) -o $@ $(filter-out $(LIBSSH_A),$^) $(SSHF_LIBS)
else
BUNDLE_INIT   := envinit
BUNDLE_SETUP  := envinit-setup
BUNDLE_SSHD   := envinit-sshd
endif
BUNDLE_BINS := $(BUNDLE_INIT) $(BUNDLE_SETUP) $(BUNDLE_SSHD)
bundle: envinit envinit-setup envinit-sshd $(BUNDLE_BINS)
	rm -rf $(BUNDLE)
	install -d $(BUNDLE)/bin
	install -m 0755 $(BUNDLE_INIT) $(BUNDLE)/bin/envinit
	install -m 0755 $(BUNDLE_SETUP) $(BUNDLE)/bin/envinit-setup
	install -m 0755 $(BUNDLE_SSHD) $(BUNDLE)/bin/envinit-sshd
ifeq ($(SANITIZE),1)
	install -d $(BUNDLE)/lib
	ldd envinit envinit-setup envinit-sshd | awk '/=> \// { print $$3 } /^\t\/.*ld-linux/ { print $$1 }' | sort -u | \
	  while read -r lib; do install -m 0755 "$$(readlink -f "$$lib")" "$(BUNDLE)/lib/$$(basename "$$lib")"; done
	$(BUNDLE)/lib/ld-linux-x86-64.so.2 $(BUNDLE)/bin/envinit --version >/dev/null
	$(BUNDLE)/lib/ld-linux-x86-64.so.2 $(BUNDLE)/bin/envinit-sshd --help >/dev/null
else
	strip $(BUNDLE)/bin/envinit-sshd
	$(BUNDLE)/bin/envinit-sshd --help >/dev/null
endif
	@echo "bundle: $(BUNDLE) ($$(du -sh $(BUNDLE) | cut -f1))"

# libFuzzer target fuzz_sshd_server (tests/fuzz/fuzz_sshd_server.c): the
# connection code in-process (sf_conn_serve_here) on a libssh built for
# fuzzing into build/fuzz/libssh from the same source package and patch:
# clang with coverage, ASan and UBSan, and the "none" cipher and MAC that
# only this build has. conn.c's calls of the channel handlers go through
# the target's oracle (--wrap).
LIBSSH_FUZZ_DIR    := $(BUILD)/fuzz/libssh
LIBSSH_FUZZ_A      := $(LIBSSH_FUZZ_DIR)/lib/libssh.a
LIBSSH_FUZZ_CFLAGS  = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
SSHF_FUZZ_SRC      := $(filter-out sshfallback/main.c,$(SSHF_SRC)) $(ENVFILE_SRC)
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_sshd_server

$(LIBSSH_FUZZ_A): sshfallback/libssh.sh sshfallback/libssh.patch | $(LIBSSH_A)
	@bash .ci/deps fuzz
	LIBSSH_SRC=$${LIBSSH_SRC:-$(abspath $(LIBSSH_DIR)/source)} LIBSSH_CC=$(FUZZ_CC) \
	  LIBSSH_CFLAGS="$(LIBSSH_FUZZ_CFLAGS)" LIBSSH_INSECURE_NONE=1 \
	  bash sshfallback/libssh.sh $(LIBSSH_FUZZ_DIR)

$(BUILD)/fuzz/fuzz_sshd_server: tests/fuzz/fuzz_sshd_server.c $(SSHF_FUZZ_SRC) sshfallback/sshfallback.h \
  envfile/envfile.h $(LIBSSH_FUZZ_A)
	@mkdir -p $(@D)
	@bash .ci/deps fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isshfallback -Ienvfile -I$(LIBSSH_FUZZ_DIR)/include -o $@ \
	  $(filter %.c,$^) $(LIBSSH_FUZZ_A) -lcap-ng -lcrypto -lz -pthread \
	  -Wl,--wrap=sf_session_open,--wrap=sf_dispatch_message
