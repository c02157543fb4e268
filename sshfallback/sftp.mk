# sshfallback/sftp.c: the SFTP subsystem. It is compiled into envinit-sshd by
# build.mk's glob; here: a standalone server for tests and benchmarks
# (OpenSSH's sshd runs it as `Subsystem sftp`) and its unit tests.
SFTP_OBJ    := $(BUILD)/sshfallback/sftp.o
SFTP_SERVER := $(BUILD)/tests/envinit-sftp-server
SFTP_TEST   := $(BUILD)/tests/test_sftp

$(SFTP_SERVER): $(BUILD)/tests/helpers/sftp_server_main.o $(SFTP_OBJ)
	@mkdir -p $(@D)
	$(CC) -pie $(LDHARDEN) -o $@ $^

$(SFTP_TEST): $(BUILD)/tests/unit/test_sftp.o $(SFTP_OBJ)
	@mkdir -p $(@D)
	$(CC) -pie $(LDHARDEN) -o $@ $^ $(CHECK_LIBS)

TESTS_DEPS += $(SFTP_SERVER)
TESTS      += $(SFTP_TEST)
