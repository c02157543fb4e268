# SSH orchestration (init/ssh*.c, cvm.c, status.c): its Check unit tests.
# The code itself goes into envinit (CORE_OBJ) and envinit-setup (the rest
# of init/); see the top Makefile.
$(BUILD)/tests/test_ssh: $(BUILD)/tests/unit/test_ssh.o $(INIT_OBJ) $(ENVFILE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -pie -o $@ $^ $(CHECK_LIBS)

TESTS += $(BUILD)/tests/test_ssh
