/* Shared runner for the Check unit tests: runs the suites in this process
 * (CK_NOFORK is not used, so a crash fails one case, not the binary) and
 * prints one PASS:/FAIL: line per case for tests/run.sh to count. */
#ifndef ENVINIT_TESTS_UNIT_H
#define ENVINIT_TESTS_UNIT_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Adds test T to suite S in a TCase of its own, so each result carries the
 * test's name. */
#define UNIT_ADD(s, t)                             \
    do {                                           \
        TCase *tc_ = tcase_create(#t);             \
        tcase_add_test(tc_, t);                    \
        suite_add_tcase(s, tc_);                   \
    } while (0)

static inline int unit_run(const char *component, Suite *const *suites)
{
    SRunner *sr = srunner_create(suites[0]);
    for (int i = 1; suites[i]; i++)
        srunner_add_suite(sr, suites[i]);
    srunner_set_log(sr, NULL);
    srunner_run_all(sr, CK_SILENT);
    int n = srunner_ntests_run(sr);
    TestResult **res = srunner_results(sr);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int ok = tr_rtype(res[i]) == CK_PASS;
        failed += !ok;
        if (ok)
            printf("PASS: unit/%s/%s\n", component, tr_tcname(res[i]));
        else
            printf("FAIL: unit/%s/%s: %s:%d: %s\n", component, tr_tcname(res[i]),
                   tr_lfile(res[i]), tr_lno(res[i]), tr_msg(res[i]));
    }
    free(res);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
