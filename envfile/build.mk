# envfile: its unit tests and the fuzz targets.
# (ENVFILE_SRC/ENVFILE_OBJ come from the top Makefile.)

$(BUILD)/tests/test_envfile: $(BUILD)/tests/unit/test_envfile.o $(ENVFILE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -pie -o $@ $(filter %.o,$^) $(CHECK_LIBS)

TESTS += $(BUILD)/tests/test_envfile

# libFuzzer targets (the rules for all of them are in the top Makefile).
ENVFILE_FUZZ_LIB = $(ENVFILE_SRC)
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_envfile_merge $(BUILD)/fuzz/fuzz_envfile_key $(BUILD)/fuzz/fuzz_envfile_etc \
                $(BUILD)/fuzz/fuzz_envfile_passwd $(BUILD)/fuzz/fuzz_envfile_cgroup

$(BUILD)/fuzz/fuzz_envfile_%: tests/fuzz/fuzz_envfile_%.c $(ENVFILE_FUZZ_LIB) envfile/envfile.h
	@mkdir -p $(@D)
	@bash .ci/deps fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ienvfile -o $@ $< $(ENVFILE_FUZZ_LIB)
