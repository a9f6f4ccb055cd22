/* sapm_test.h - the tiny test harness of sapm.h's tests (in the spirit of greatest/utest.h).
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-12); }
 *   int main(void) { RUN(test_something); return sapm_test_summary(); }
 *
 * A test passes when none of its checks fail. Each binary ends with the line
 * "N passed, M failed" (counting tests); tests/run.sh adds the binaries up.
 * SAPM_TEST_FILTER=substring runs only the tests whose name contains it. */
#ifndef SAPM_TEST_H
#define SAPM_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sapm_test_passed_, sapm_test_failed_, sapm_test_current_failed_;
static const char *sapm_test_name_;

static void sapm_test_fail_(const char *file, int line, const char *what)
{
    if (sapm_test_current_failed_ < 5)
        fprintf(stderr, "  FAIL %s:%d in %s: %s\n", file, line, sapm_test_name_, what);
    ++sapm_test_current_failed_;
}

#define CHECK(cond) \
    do { if (!(cond)) sapm_test_fail_(__FILE__, __LINE__, #cond); } while (0)

/* |a - b| <= tol, with NaN failing. */
#define CHECK_NEAR(a, b, tol) \
    do { double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol); \
         if (!(fabs(a_ - b_) <= t_)) { char m_[256]; \
             snprintf(m_, sizeof m_, "|%s - %s| = |%.17g - %.17g| = %.3g > %.3g", #a, #b, a_, b_, fabs(a_ - b_), t_); \
             sapm_test_fail_(__FILE__, __LINE__, m_); } } while (0)

/* |a - b| <= rtol * max(|a|, |b|, floor). */
#define CHECK_REL(a, b, rtol, floor_) \
    do { double a_ = (double)(a), b_ = (double)(b), s_ = fabs(a_) > fabs(b_) ? fabs(a_) : fabs(b_); \
         if (s_ < (floor_)) s_ = (floor_); \
         if (!(fabs(a_ - b_) <= (rtol) * s_)) { char m_[256]; \
             snprintf(m_, sizeof m_, "%s vs %s: %.17g vs %.17g (rel %.3g > %.3g)", #a, #b, a_, b_, fabs(a_ - b_) / s_, (double)(rtol)); \
             sapm_test_fail_(__FILE__, __LINE__, m_); } } while (0)

/* Both an integer/enum equality and what the values were. */
#define CHECK_EQ_INT(a, b) \
    do { long a_ = (long)(a), b_ = (long)(b); if (a_ != b_) { char m_[256]; \
         snprintf(m_, sizeof m_, "%s == %s: %ld != %ld", #a, #b, a_, b_); \
         sapm_test_fail_(__FILE__, __LINE__, m_); } } while (0)

#define RUN(fn) sapm_test_run_(#fn, fn)

static void sapm_test_run_(const char *name, void (*fn)(void))
{
    const char *filter = getenv("SAPM_TEST_FILTER");
    if (filter && !strstr(name, filter)) return;
    sapm_test_name_ = name;
    sapm_test_current_failed_ = 0;
    fn();
    if (sapm_test_current_failed_) {
        ++sapm_test_failed_;
        fprintf(stderr, "FAIL %s (%d failed checks)\n", name, sapm_test_current_failed_);
    } else {
        ++sapm_test_passed_;
        if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "ok   %s\n", name);
    }
}

static int sapm_test_summary(void)
{
    printf("%d passed, %d failed\n", sapm_test_passed_, sapm_test_failed_);
    return sapm_test_failed_ ? 1 : 0;
}

#endif
