/* Linked into every program of `make SANITIZE=1`, nowhere else.
 *
 * gcc's UndefinedBehaviorSanitizer, when ASan is linked too, runs as
 * ASan's plugin with its own copy of the sanitizers' report file, which no
 * option sets up: log_path reaches ASan's reports only, and UBSan's went
 * to stderr, where a server's are easily lost. At start, this hands
 * libubsan the log_path of UBSAN_OPTIONS, so tests/run.sh finds its
 * reports with the others. */
#include <dlfcn.h>
#include <sanitizer/lsan_interface.h>
#include <stdlib.h>
#include <string.h>

/* The value of NAME in a sanitizer option string ("a=1:log_path=/x:b=2"),
 * or 0 when it is not there or does not fit OUT. */
static int option_value(const char *opts, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = opts; p && *p; p = strchr(p, ':'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) != 0 || p[n] != '=')
            continue;
        const char *v = p + n + 1;
        size_t vlen = strcspn(v, ":");
        if (vlen == 0 || vlen >= len)
            return 0;
        memcpy(out, v, vlen);
        out[vlen] = '\0';
        return 1;
    }
    return 0;
}

/* The loaded libubsan's handle. Started through the loader (as the bundle
 * starts its server), the loader keeps an allocation of this dlopen where
 * LeakSanitizer cannot see it, for the process's life: not a leak of ours. */
static void *loaded_ubsan(void)
{
    __lsan_disable();
    void *h = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
    __lsan_enable();
    return h;
}

__attribute__((constructor)) static void ubsan_report_path(void)
{
    static char path[4096];
    const char *opts = getenv("UBSAN_OPTIONS");
    if (!opts || !option_value(opts, "log_path", path, sizeof path))
        return;
    void *ubsan = loaded_ubsan();
    if (!ubsan)
        return;
    void (*set_path)(const char *);
    /* POSIX's way from dlsym's object pointer to a function pointer. */
    *(void **)&set_path = dlsym(ubsan, "__sanitizer_set_report_path");
    if (set_path)
        set_path(path);
    dlclose(ubsan);
}
