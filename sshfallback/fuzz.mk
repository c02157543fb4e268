# sshfallback: libFuzzer targets for the parsers that take a client's bytes
# (the rules for all targets are in the top Makefile). Each target is built
# from the few files it needs, none of which includes libssh, so none needs
# a libssh of its own.
SSHF_FUZZ := sshd_sftp sshd_authkeys sshd_ttymodes sshd_x11
FUZZ_TARGETS += $(SSHF_FUZZ:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_sshd_sftp: sshfallback/sftp.c
$(BUILD)/fuzz/fuzz_sshd_authkeys: sshfallback/authkeys.c $(ENVFILE_SRC) envfile/envfile.h
$(BUILD)/fuzz/fuzz_sshd_ttymodes: sshfallback/ttymodes.c
$(BUILD)/fuzz/fuzz_sshd_x11: sshfallback/x11cookie.c

$(BUILD)/fuzz/fuzz_sshd_%: tests/fuzz/fuzz_sshd_%.c sshfallback/sshfallback.h
	@mkdir -p $(@D)
	@bash .ci/deps fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isshfallback -Ienvfile -o $@ $(filter %.c,$^)
