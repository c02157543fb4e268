/* Shared runner for the Check unit tests: runs the suites in this process
 * (CK_NOFORK is not used, so a crash fails one case, not the binary) and
 * prints one PASS:/FAIL: line per case for tests/run.sh to count. */
#ifndef ENVINIT_TESTS_UNIT_H
#define ENVINIT_TESTS_UNIT_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* The one way a unit test registers a case: test T in suite S, in a TCase
 * of its own so each result carries the test's name. SETUP and TEARDOWN
 * (may be NULL) run around it in the case's own process; LOOP > 0 runs it
 * with _i = 0 .. LOOP-1. Every case may take 30 s: no test times anything,
 * and a loaded machine or a sanitized build is slow. */
static inline void unit_add(Suite *s, const TTest *t, SFun setup, SFun teardown, int loop)
{
    TCase *tc = tcase_create(t->name);
    tcase_set_timeout(tc, 30);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    if (loop > 0)
        tcase_add_loop_test(tc, t, 0, loop);
    else
        tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}
#define UNIT_ADD(s, t) unit_add(s, t, NULL, NULL, 0)
#define UNIT_ADD_FIXTURE(s, t, setup, teardown) unit_add(s, t, setup, teardown, 0)
#define UNIT_ADD_LOOP(s, t, n) unit_add(s, t, NULL, NULL, n)

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
