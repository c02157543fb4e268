# init: unit tests for the command line, configuration, signals, backoff.

$(BUILD)/tests/test_init: $(BUILD)/tests/unit/test_init.o $(INIT_OBJ) $(ENVFILE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -pie -o $@ $^ $(CHECK_LIBS)

TESTS += $(BUILD)/tests/test_init

# Small programs the integration tests run under envinit.
HELPERS := $(BUILD)/tests/sigrecord $(BUILD)/tests/orphans
$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $<
TESTS_DEPS += $(HELPERS)

# libFuzzer targets for the parsers of bytes others control: /proc/net,
# the greeting of whatever listens on the SSH port, sshd_config, the plan,
# the status file, a service's stderr and the INI file (the rules for all
# targets are in the top Makefile). init/ and envfile/ are compiled again with the fuzz
# instrumentation, once for all of them.
INIT_FUZZ_OBJ := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(INIT_SRC) $(ENVFILE_SRC))
FUZZ_TARGETS += $(addprefix $(BUILD)/fuzz/fuzz_init_,procnet greeting sshd_config plan status lines config)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@bash .ci/deps fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz_init_%: tests/fuzz/fuzz_init_%.c $(INIT_FUZZ_OBJ) init/envinit.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinit -o $@ $< $(INIT_FUZZ_OBJ)
