# init: unit tests for the command line, configuration, signals, backoff.
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

$(BUILD)/tests/test_init: $(BUILD)/tests/unit/test_init.o $(INIT_OBJ) $(ENVFILE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -pie -o $@ $^ -l:libinih.a $(CHECK_LIBS)

TESTS += $(BUILD)/tests/test_init

# Small programs the integration tests run under envinit.
HELPERS := $(BUILD)/tests/sigrecord $(BUILD)/tests/orphans
$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $<
TESTS_DEPS += $(HELPERS)
