/* libFuzzer target: the image's sshd_config and the files it includes, as
 * envinit-setup reads them (sshd_config_sets) to leave the image's own
 * choices alone. The input, cut at NUL bytes, becomes a small file tree
 * in a scratch folder:
 *   sshd_config                    the main file, then the files
 *   sshd_config.d/10-a.conf        Include patterns can reach (those
 *   sshd_config.d/20-b.conf        the input has pieces for):
 *   sshd_config.d/.hidden.conf     a dot name, only ".*" matches it
 *   other.conf
 *   sshd_config.d/zz-aaa...a.conf  240 bytes: wildcards' worst case
 * so that Include, its wildcards and its nesting limit (a file including
 * itself) are all reachable. Checks, beyond memory safety:
 * - only the three known bits come out, and those the main file sets
 *   itself (up to its first Match) are among them;
 * - each Include argument handed over is a non-empty word on one line;
 * - the result equals a reference scan that expands the patterns with
 *   glob(3) and follows the same nesting limit, for patterns both handle
 *   alike (relative, no "[" or "\" in the file name part) and trees that
 *   stay within the limit on the files read in all;
 * - a scan ends quickly whatever the includes (libFuzzer's -timeout). */
#include "envinit.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEPTH_MAX 16            /* ssh_openssh.c's INCLUDE_DEPTH_MAX, sshd's limit */
#define ALL_SETS (SSHD_SETS_PERMIT_USER_ENV | SSHD_SETS_X11_FORWARDING | SSHD_SETS_X11_USE_LOCALHOST)
#define FILES_MAX 1024          /* ssh_openssh.c's INCLUDE_FILES_MAX */

#define LONG_NAME 240
static char long_file[sizeof "sshd_config.d/" + LONG_NAME];
static const char *const files[] = {"sshd_config", "sshd_config.d/10-a.conf", "sshd_config.d/20-b.conf",
                                    "sshd_config.d/.hidden.conf", "other.conf", long_file};
#define N_FILES (sizeof files / sizeof files[0])

static char root[64];

static void make_root(void)
{
    char name[LONG_NAME + 1];
    memset(name, 'a', LONG_NAME);
    memcpy(name, "zz-", 3);
    memcpy(name + LONG_NAME - 5, ".conf", 6);
    snprintf(long_file, sizeof long_file, "sshd_config.d/%s", name);
    snprintf(root, sizeof root, "/tmp/envinit-fuzz-sshd.XXXXXX");
    char sub[128];
    if (!mkdtemp(root) || snprintf(sub, sizeof sub, "%s/sshd_config.d", root) >= (int)sizeof sub ||
        mkdir(sub, 0755) < 0)
        abort();
}

static void remove_root(void)
{
    char path[512];
    for (size_t i = 0; i < N_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/sshd_config.d", root);
    rmdir(path);
    rmdir(root);
}

static void put_file(size_t i, const char *data, size_t len, bool present)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, files[i]);
    if (!present) {
        if (unlink(path) < 0 && errno != ENOENT)
            abort();
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
        abort();
}

/* ---- the reference: the same line scanner, glob(3) for the patterns ---- */

struct ref {
    unsigned sets;
    int depth;
    long reads;
    bool comparable;
};

static void ref_file(struct ref *r, const char *path);

static char *read_whole(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *text = calloc(1, (size_t)st.st_size + 1);
    if (text && fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

static void ref_include(const char *pattern, void *ctx)
{
    struct ref *r = ctx;
    const char *base = strrchr(pattern, '/');
    base = base ? base + 1 : pattern;
    bool wild = strpbrk(base, "*?") != NULL;
    /* Outside the tree (other folders may hold more names than envinit
     * reads), or where glob(3) has more syntax than envinit's matcher:
     * brackets, and backslash escapes, which glob(3) undoes in the folder
     * part too ("\\sshd_config.d/x*" names sshd_config.d there). */
    if (pattern[0] == '/' || strstr(pattern, "..") || (wild && strpbrk(pattern, "[\\"))) {
        r->comparable = false;
        return;
    }
    for (const char *c = pattern; c < base; c++)
        if (strchr("*?[", *c))
            return;             /* wildcards in a folder name: not followed */
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", root, pattern);
    if (!wild) {
        ref_file(r, full);
        return;
    }
    glob_t g;
    if (glob(full, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc && r->comparable; i++)
        ref_file(r, g.gl_pathv[i]);
    globfree(&g);
}

static void ref_file(struct ref *r, const char *path)
{
    if (!r->comparable)
        return;
    if (++r->reads > FILES_MAX) {
        r->comparable = false;  /* where envinit stops depends on the order of its reads */
        return;
    }
    if (r->depth >= DEPTH_MAX)
        return;
    char *text = read_whole(path);
    if (!text)
        return;
    r->depth++;
    sshd_config_scan(text, &r->sets, ref_include, r);
    r->depth--;
    free(text);
}

/* ---- checks ---- */

static void check_argument(const char *pattern, void *ctx)
{
    (void)ctx;
    size_t n = strlen(pattern);
    if (n == 0 || n >= 4096 || strchr(pattern, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!root[0]) {
        make_root();
        atexit(remove_root);
        log_set_level(LOG_ERROR);
    }
    const char *p = (const char *)data, *end = p + size;
    char *main_text = NULL;
    for (size_t i = 0; i < N_FILES; i++) {
        const char *nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
        size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
        put_file(i, p, n, p < end || i == 0);
        if (i == 0 && !(main_text = strndup(p, n)))
            abort();
        p = nul ? nul + 1 : end;
    }
    char etc[80], path[128];
    snprintf(etc, sizeof etc, "%s", root);
    snprintf(path, sizeof path, "%s/sshd_config", root);
    unsigned sets = sshd_config_sets(path, etc);
    unsigned own = 0;
    sshd_config_scan(main_text, &own, check_argument, NULL);
    if ((sets & ~(unsigned)ALL_SETS) || (own & ~sets))
        abort();
    struct ref r = {.comparable = true};
    ref_file(&r, path);
    if (r.comparable && r.sets != sets)
        abort();
    free(main_text);
    return 0;
}
