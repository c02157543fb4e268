# SSH orchestration (init/ssh*.c, cvm.c, status.c): its Check unit tests.
# The code itself is part of envinit through INIT_SRC (every init/*.c).
$(BUILD)/tests/test_ssh: $(BUILD)/tests/unit/test_ssh.o $(INIT_OBJ) $(ENVFILE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -pie -o $@ $^ -l:libinih.a $(shell pkg-config --libs check)

TESTS += $(BUILD)/tests/test_ssh
