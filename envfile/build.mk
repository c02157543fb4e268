# envfile: its unit tests and the fuzz targets.
# (ENVFILE_SRC/ENVFILE_OBJ come from the top Makefile.)

ENVFILE_CHECK_CFLAGS = $(shell pkg-config --cflags check)
ENVFILE_CHECK_LIBS = $(shell pkg-config --libs check)

$(BUILD)/tests/test_envfile: tests/unit/test_envfile.c $(ENVFILE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ENVFILE_CHECK_CFLAGS) -Ienvfile -Itests/unit -o $@ $< $(ENVFILE_OBJ) \
	  $(LDHARDEN) $(ENVFILE_CHECK_LIBS)

TESTS += $(BUILD)/tests/test_envfile

# libFuzzer targets: clang with fuzzer, ASan and UBSan; the library is
# compiled again with the same instrumentation into build/fuzz/. Run e.g.
#   mkdir -p build/fuzz/corpus-merge && build/fuzz/fuzz_envfile_merge \
#     -max_total_time=600 build/fuzz/corpus-merge tests/fuzz/corpus/merge
# (generated corpora stay under build/; tests/fuzz/corpus holds the seeds).
ENVFILE_FUZZ_CC ?= clang
ENVFILE_FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined -Ienvfile
ENVFILE_FUZZ_LIB = $(filter-out envfile/install.c envfile/cgroup.c envfile/user.c,$(ENVFILE_SRC))
ENVFILE_FUZZ_TARGETS = $(BUILD)/fuzz/fuzz_envfile_merge $(BUILD)/fuzz/fuzz_envfile_key

fuzz: $(ENVFILE_FUZZ_TARGETS)

$(BUILD)/fuzz/fuzz_envfile_%: tests/fuzz/fuzz_envfile_%.c $(ENVFILE_FUZZ_LIB) envfile/envfile.h
	@mkdir -p $(@D)
	bash .ci/deps fuzz
	$(ENVFILE_FUZZ_CC) $(ENVFILE_FUZZ_CFLAGS) -o $@ $< $(ENVFILE_FUZZ_LIB)
